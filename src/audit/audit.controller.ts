import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { Permission } from '../auth/principal.js';
import type { Page } from '../common/pagination/pagination.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import { AuditService } from './audit.service.js';
import { AuditLogDto, AuditLogQueryDto } from './dto/audit-log.dto.js';

@ApiTags('audit')
@Controller('audit-logs')
export class AuditController {
  constructor(private readonly auditService: AuditService) {}

  @Get()
  @Authenticated({ permission: Permission.AuditRead })
  @Endpoint({ summary: 'The audit log, newest first (admins only)', response: AuditLogDto, list: true })
  list(@Query() query: AuditLogQueryDto): Promise<Page<AuditLogDto>> {
    return this.auditService.list(query);
  }
}
