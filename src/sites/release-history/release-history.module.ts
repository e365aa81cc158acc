import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ReleaseEntity } from './entities/release.entity.js';
import { ReleaseProjectEntity } from './entities/release-project.entity.js';
import { ModuleStatusRepository } from './module-status.repository.js';
import { ModuleStatusService } from './module-status.service.js';
import { ReleaseHistoryController } from './release-history.controller.js';
import { ReleaseHistoryRepository } from './release-history.repository.js';
import { ReleaseHistoryService } from './release-history.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ReleaseProjectEntity, ReleaseEntity])],
  controllers: [ReleaseHistoryController],
  providers: [ReleaseHistoryRepository, ReleaseHistoryService, ModuleStatusRepository, ModuleStatusService],
  exports: [ModuleStatusService],
})
export class ReleaseHistoryModule {}
