import { Module } from '@nestjs/common';
import { SitesModule } from '../sites/sites.module.js';
import { ReportingController } from './reporting.controller.js';
import { ReportingRepository } from './reporting.repository.js';
import { ReportingService } from './reporting.service.js';

@Module({
  imports: [SitesModule],
  controllers: [ReportingController],
  providers: [ReportingRepository, ReportingService],
})
export class ReportingModule {}
