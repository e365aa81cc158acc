import { Module } from '@nestjs/common';
import { ModuleStatusService } from './module-status.service.js';

@Module({
  providers: [ModuleStatusService],
  exports: [ModuleStatusService],
})
export class ReleaseHistoryModule {}
