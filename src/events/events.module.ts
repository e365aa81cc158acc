import { Module } from '@nestjs/common';
import { EventBus } from './event-bus.js';
import { EventsGateway } from './events.gateway.js';

@Module({
  providers: [EventBus, EventsGateway],
  exports: [EventBus],
})
export class EventsModule {}
