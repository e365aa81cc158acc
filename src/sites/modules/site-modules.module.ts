import { Module } from '@nestjs/common';
import { ReleaseHistoryModule } from '../release-history/release-history.module.js';
import { SitesModule } from '../sites.module.js';
import { SiteModulesController } from './site-modules.controller.js';
import { SiteModulesRepository } from './site-modules.repository.js';
import { SiteModulesService } from './site-modules.service.js';

@Module({
  imports: [SitesModule, ReleaseHistoryModule],
  controllers: [SiteModulesController],
  providers: [SiteModulesRepository, SiteModulesService],
})
export class SiteModulesModule {}
