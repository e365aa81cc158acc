import { Module } from '@nestjs/common';
import { SitesModule } from '../sites.module.js';
import { PatchRunsController } from './patch-runs.controller.js';
import { PatchRunsRepository } from './patch-runs.repository.js';
import { PatchRunsService } from './patch-runs.service.js';

@Module({
  imports: [SitesModule],
  controllers: [PatchRunsController],
  providers: [PatchRunsRepository, PatchRunsService],
})
export class PatchRunsModule {}
