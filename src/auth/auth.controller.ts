import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Endpoint } from '../common/openapi/endpoint.decorator.js';
import { Auth, Authenticated, Public } from './auth.decorators.js';
import { AuthService } from './auth.service.js';
import { AccessTokenDto, LoginDto, MeDto } from './dto/auth.dto.js';
import { Permission, type Principal } from './principal.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly authService: AuthService) {}

  @Post('login')
  @Public()
  @Endpoint({
    summary: 'Exchange email and password for a bearer token',
    response: AccessTokenDto,
    hasBody: true,
    errors: [401, 429],
  })
  login(@Body() dto: LoginDto): Promise<AccessTokenDto> {
    return this.authService.login(dto);
  }

  @Post('logout')
  @Authenticated({ permission: Permission.ProfileUpdate })
  @Endpoint({ summary: 'Revoke the bearer token used for this request', errors: [422] })
  logout(@Auth() principal: Principal): Promise<void> {
    return this.authService.logout(principal);
  }

  @Get('me')
  @Authenticated({ permission: Permission.SelfRead })
  @Endpoint({ summary: 'Who the credentials belong to, and what they allow', response: MeDto })
  me(@Auth() principal: Principal): MeDto {
    return this.authService.me(principal);
  }
}
