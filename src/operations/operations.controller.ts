import { Controller, Delete, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, Authenticated } from '../auth/auth.decorators.js';
import { Permission, type Principal } from '../auth/principal.js';
import { UuidParam } from '../common/http/uuid-param.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import type { Page } from '../common/pagination/pagination.js';
import { OperationDto, OperationQueryDto, OperationWaitQueryDto } from './dto/operation.dto.js';
import { OperationsService } from './operations.service.js';

@ApiTags('operations')
@Controller('operations')
export class OperationsController {
  constructor(private readonly operationsService: OperationsService) {}

  @Get()
  @Authenticated({ permission: Permission.OperationRead })
  @Endpoint({ summary: 'List operations, newest first', response: OperationDto, list: true })
  list(@Auth() principal: Principal, @Query() query: OperationQueryDto): Promise<Page<OperationDto>> {
    return this.operationsService.list(principal, query);
  }

  @Get(':operation_id')
  @Authenticated({ permission: Permission.OperationRead })
  @Endpoint({ summary: 'One operation', response: OperationDto, errors: [404] })
  get(@Auth() principal: Principal, @UuidParam('operation_id') id: string): Promise<OperationDto> {
    return this.operationsService.get(principal, id);
  }

  @Get(':operation_id/wait')
  @Authenticated({ permission: Permission.OperationRead })
  @Endpoint({
    summary: 'Wait until the operation ends or the timeout passes, then answer it as it is',
    response: OperationDto,
    errors: [404],
  })
  wait(
    @Auth() principal: Principal,
    @UuidParam('operation_id') id: string,
    @Query() query: OperationWaitQueryDto,
  ): Promise<OperationDto> {
    return this.operationsService.wait(principal, id, query.timeout);
  }

  @Delete(':operation_id')
  @Authenticated({
    permission: Permission.OperationCancel,
    audit: { action: 'operation.cancel', resource: 'operation' },
  })
  @Endpoint({ summary: 'Cancel an operation that has not started yet', response: OperationDto, errors: [404, 409] })
  cancel(@Auth() principal: Principal, @UuidParam('operation_id') id: string): Promise<OperationDto> {
    return this.operationsService.cancel(principal, id);
  }
}
