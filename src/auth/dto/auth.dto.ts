import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { ROLES, type Role } from '../principal.js';

export class LoginDto {
  @ApiProperty({ example: 'admin@example.org' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @Length(1, 256)
  password!: string;
}

export class AccessTokenDto {
  @ApiProperty({ description: 'A JWT for the Authorization: Bearer header' })
  access_token!: string;

  @ApiProperty({ enum: ['Bearer'] })
  token_type!: 'Bearer';

  @ApiProperty({ example: 3600, description: 'Seconds until the token expires' })
  expires_in!: number;
}

export class MeDto {
  @ApiProperty({ enum: ['user', 'api_key', 'bootstrap'] })
  kind!: 'user' | 'api_key' | 'bootstrap';

  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: "The user's or the key's id" })
  id!: string | null;

  @ApiProperty({ description: 'Email, key prefix or bootstrap-token' })
  label!: string;

  @ApiProperty({ enum: ROLES })
  role!: Role;

  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  organization_id!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'Set for keys limited to one site' })
  site_id!: string | null;

  @ApiProperty({ type: [String], description: 'What this caller may do' })
  permissions!: string[];
}
