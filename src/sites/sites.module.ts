import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OrganizationsModule } from '../organizations/organizations.module.js';
import { SiteEntity } from './entities/site.entity.js';
import { SiteAccess } from './site-access.service.js';
import { SitesController } from './sites.controller.js';
import { SitesRepository } from './sites.repository.js';
import { SitesService } from './sites.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([SiteEntity]), OrganizationsModule],
  controllers: [SitesController],
  providers: [SitesRepository, SitesService, SiteAccess],
  exports: [SitesRepository, SiteAccess],
})
export class SitesModule {}
