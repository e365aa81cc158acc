import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretBox } from '../common/secrets/secret-box.js';
import { EventsModule } from '../events/events.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { DeploymentsService } from './deployments.service.js';
import { IdracKeyEntity } from './entities/idrac-key.entity.js';
import { IdracServerEntity } from './entities/idrac-server.entity.js';
import { IdracController } from './idrac.controller.js';
import { IdracEvents } from './idrac-events.js';
import { IdracKeysRepository } from './idrac-keys.repository.js';
import { IdracKeysService } from './idrac-keys.service.js';
import { IdracConnector } from './idrac-ssh.provider.js';
import { IdracServersRepository } from './idrac-servers.repository.js';
import { IdracServersService } from './idrac-servers.service.js';
import { PrivateKeyStore } from './private-key-store.js';
import { TargetPolicy } from './target-policy.js';

@Module({
  imports: [TypeOrmModule.forFeature([IdracKeyEntity, IdracServerEntity]), EventsModule, OperationsModule],
  controllers: [IdracController],
  providers: [
    DeploymentsRepository,
    DeploymentsService,
    IdracConnector,
    IdracEvents,
    IdracKeysRepository,
    IdracKeysService,
    IdracServersRepository,
    IdracServersService,
    PrivateKeyStore,
    SecretBox,
    TargetPolicy,
  ],
})
export class IdracModule {}
