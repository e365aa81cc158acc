import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { ContainerEvents } from './container-events.js';
import { LxcController } from './lxc.controller.js';
import { LxcHost } from './lxc-host.js';
import { LxcService } from './lxc.service.js';

@Module({
  imports: [EventsModule, OperationsModule],
  controllers: [LxcController],
  providers: [LxcHost, LxcService, ContainerEvents],
  exports: [LxcHost],
})
export class LxcModule {}
