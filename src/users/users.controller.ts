import { Body, Controller, Delete, Get, HttpStatus, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, Authenticated } from '../auth/auth.decorators.js';
import { Permission, type Principal } from '../auth/principal.js';
import { UuidParam } from '../common/http/uuid-param.decorator.js';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import type { Page } from '../common/pagination/pagination.js';
import { CreateUserDto, UpdateUserDto, UserDto, UserQueryDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

const AUDIT = 'user';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly usersService: UsersService) {}

  @Post('add')
  @Authenticated({ permission: Permission.UserAdmin, audit: { action: 'user.create', resource: AUDIT } })
  @Endpoint({ summary: 'Create a user (admins only)', response: UserDto, status: HttpStatus.CREATED, hasBody: true, errors: [409] })
  create(@Auth() principal: Principal, @Body() dto: CreateUserDto): Promise<UserDto> {
    return this.usersService.create(principal, dto);
  }

  @Get()
  @Authenticated({ permission: Permission.UserAdmin })
  @Endpoint({ summary: 'List users (admins only)', response: UserDto, list: true })
  list(@Query() query: UserQueryDto): Promise<Page<UserDto>> {
    return this.usersService.list(query);
  }

  @Get(':user_id')
  @Authenticated({ permission: Permission.UserRead })
  @Endpoint({ summary: 'One user, with organization and role', response: UserDto, errors: [404] })
  get(@Auth() principal: Principal, @UuidParam('user_id') id: string): Promise<UserDto> {
    return this.usersService.get(principal, id);
  }

  @Put('update/:user_id')
  @Authenticated({ permission: Permission.ProfileUpdate, audit: { action: 'user.update', resource: AUDIT } })
  @Endpoint({
    summary: 'Update a user (yourself, or anyone as admin; role, organization and deletion are admin-only)',
    response: UserDto,
    hasBody: true,
    errors: [403, 404, 409, 422],
  })
  update(@Auth() principal: Principal, @UuidParam('user_id') id: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return this.usersService.update(principal, id, dto);
  }

  @Delete('delete/:user_id')
  @Authenticated({ permission: Permission.UserAdmin, audit: { action: 'user.delete', resource: AUDIT } })
  @Endpoint({ summary: 'Soft-delete a user (admins only)', response: UserDto, errors: [404, 422] })
  remove(@Auth() principal: Principal, @UuidParam('user_id') id: string): Promise<UserDto> {
    return this.usersService.remove(principal, id);
  }
}
