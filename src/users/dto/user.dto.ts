import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { MIN_PASSWORD_LENGTH } from '../../auth/password-hasher.js';
import { ROLES, type Role } from '../../auth/principal.js';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import { IsOmittable } from '../../common/validation/is-omittable.js';

const trimmedLowerCase = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

export class OrganizationRefDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Acme Hosting' }) name!: string;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ops@example.org' }) email!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ type: OrganizationRefDto }) organization!: OrganizationRefDto;
  @ApiProperty() is_deleted!: boolean;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) last_login_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'ops@example.org', maxLength: 320 })
  @Transform(trimmedLowerCase)
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH, maxLength: 256, writeOnly: true })
  @IsString()
  @Length(MIN_PASSWORD_LENGTH, 256)
  password!: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ enum: ROLES, default: 'viewer' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ format: 'uuid', description: "Defaults to the caller's organization" })
  @IsOptional()
  @IsUUID()
  organization_id?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ maxLength: 320 })
  @IsOmittable()
  @Transform(trimmedLowerCase)
  @IsEmail()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ minLength: MIN_PASSWORD_LENGTH, maxLength: 256, writeOnly: true })
  @IsOmittable()
  @IsString()
  @Length(MIN_PASSWORD_LENGTH, 256)
  password?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'Required when changing your own password' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  current_password?: string;

  @ApiPropertyOptional({ maxLength: 200, nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string | null;

  @ApiPropertyOptional({ enum: ROLES, description: 'Admins only' })
  @IsOmittable()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ format: 'uuid', description: 'Admins only' })
  @IsOmittable()
  @IsUUID()
  organization_id?: string;

  @ApiPropertyOptional({ description: 'Admins only: true deletes (soft), false restores' })
  @IsOmittable()
  @IsBoolean()
  is_deleted?: boolean;
}

export class UserQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  organization_id?: string;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ description: 'Part of the email, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;

  @ApiPropertyOptional({ description: 'Include soft-deleted users', default: false })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  include_deleted?: boolean;
}
