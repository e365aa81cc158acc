import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateIf,
  type ValidationArguments,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { PaginationQueryDto } from '../../common/pagination/pagination.js';
import {
  CONTAINER_NAME_PATTERN,
  IMAGE_PATTERN,
  INTERFACE_NAME_PATTERN,
  PORT_FORWARD_RULE_PATTERN,
  TEMPLATE_NAME_PATTERN,
  USER_NAME_PATTERN,
} from '../container-name.js';

const NAME_RULE = 'letters, digits, _ . - (not first), at most 63 characters';
const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/([89]|[12]\d|3[0-2])$/;
/** An OpenSSH public key line: type, base64 key material, optional comment without line breaks. */
const PUBLIC_KEY_LINE =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]{16,}={0,3}( [^\r\n\0]{0,255})?$/;

@ValidatorConstraint({ name: 'oneSource' })
class OneSourceConstraint implements ValidatorConstraintInterface {
  validate(_value: unknown, args: ValidationArguments): boolean {
    const body = args.object as CreateContainerDto;
    return !(body.image !== undefined && body.template !== undefined);
  }
  defaultMessage(): string {
    return 'give either image or template, not both';
  }
}

export class ContainerDto {
  @ApiProperty({ example: 'web-01' }) name!: string;
  @ApiProperty({ example: 'RUNNING', description: 'As LXC reports it: RUNNING, STOPPED, FROZEN, ...' }) state!: string;
  @ApiProperty({ type: [String], example: ['10.0.3.10'] }) ipv4!: string[];
  @ApiProperty({ type: [String] }) ipv6!: string[];
  @ApiProperty({ type: Number, nullable: true }) pid!: number | null;
  @ApiProperty() autostart!: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'Memory in use (running containers only)' })
  memory_bytes!: number | null;
}

export class ContainerQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ example: 'RUNNING' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{1,16}$/, { message: 'state must be an LXC state such as RUNNING or STOPPED' })
  state?: string;

  @ApiPropertyOptional({ description: 'Part of the name' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  q?: string;
}

export class CreateContainerDto {
  @ApiProperty({ example: 'web-01', pattern: CONTAINER_NAME_PATTERN.source })
  @IsString()
  @Matches(CONTAINER_NAME_PATTERN, { message: `name: ${NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ example: 'debian:bookworm', description: 'distro:release for the download template' })
  @ValidateIf((body: CreateContainerDto) => body.image !== undefined)
  @IsString()
  @Matches(IMAGE_PATTERN, { message: 'image must be distro:release, e.g. debian:bookworm' })
  @Validate(OneSourceConstraint)
  image?: string;

  @ApiPropertyOptional({ example: 'busybox', description: 'A local template (busybox, sshd, ...); busybox by default' })
  @IsOptional()
  @IsString()
  @Matches(TEMPLATE_NAME_PATTERN, { message: 'template must be a template name such as busybox or sshd' })
  template?: string;

  @ApiPropertyOptional({ example: '10.0.3.10/24', description: 'Static address on the bridge (there is no DHCP)' })
  @IsOptional()
  @IsString()
  @Matches(IPV4_CIDR, { message: 'ipv4 must be a.b.c.d/nn' })
  ipv4?: string;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  start?: boolean;
}

export class ConnectionDto {
  @ApiProperty({ description: 'The LXC host' }) host!: string;
  @ApiProperty({ type: String, nullable: true }) ipv4!: string | null;
  @ApiProperty({ example: 'root' }) ssh_user!: string;
  @ApiProperty({ type: String, nullable: true, example: 'ssh root@10.0.3.10' }) ssh_command!: string | null;
  @ApiProperty({ type: () => [PortForwardDto] }) port_forwards!: PortForwardDto[];
}

export class ImageDto {
  @ApiProperty({ enum: ['template', 'image'] }) kind!: 'template' | 'image';
  @ApiProperty({ example: 'busybox', description: 'What to pass as template or image when creating' }) name!: string;
  @ApiProperty({ type: String, nullable: true }) arch!: string | null;
  @ApiProperty({ type: String, nullable: true }) variant!: string | null;
}

export class NetworkSetupDto {
  @ApiProperty({ enum: ['macvlan'] })
  @IsIn(['macvlan'])
  type!: 'macvlan';

  @ApiProperty({ example: 'eth0', description: 'The host interface the macvlan hangs off' })
  @IsString()
  @Matches(INTERFACE_NAME_PATTERN, { message: 'parent must be a network interface name' })
  parent!: string;

  @ApiProperty({ enum: ['bridge', 'vepa', 'private', 'passthru'] })
  @IsIn(['bridge', 'vepa', 'private', 'passthru'])
  mode!: 'bridge' | 'vepa' | 'private' | 'passthru';

  @ApiPropertyOptional({ description: 'Configure this container; without it, the default for new containers' })
  @IsOptional()
  @IsString()
  @Matches(CONTAINER_NAME_PATTERN, { message: `container: ${NAME_RULE}` })
  container?: string;
}

export class AuthorizedKeysDto {
  @ApiProperty({ type: [String], example: ['ssh-ed25519 AAAAC3Nza... ops@example'] })
  @ArrayMinSize(1)
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @MaxLength(16_384, { each: true })
  @Matches(PUBLIC_KEY_LINE, { each: true, message: 'each public key must be one OpenSSH public key line' })
  public_keys!: string[];

  @ApiPropertyOptional({ default: 'root' })
  @IsOptional()
  @IsString()
  @Matches(USER_NAME_PATTERN, { message: 'user must be a user name' })
  user?: string;
}

export class CreatePortForwardDto {
  @ApiProperty({ example: 'ssh', pattern: PORT_FORWARD_RULE_PATTERN.source })
  @IsString()
  @Matches(PORT_FORWARD_RULE_PATTERN, { message: 'name: letters, digits, _ . - (not first), at most 32 characters' })
  name!: string;

  @ApiProperty({ enum: ['tcp', 'udp'] })
  @IsIn(['tcp', 'udp'])
  protocol!: 'tcp' | 'udp';

  @ApiProperty({ minimum: 1, maximum: 65535 })
  @IsInt()
  @Min(1)
  @Max(65535)
  host_port!: number;

  @ApiProperty({ minimum: 1, maximum: 65535 })
  @IsInt()
  @Min(1)
  @Max(65535)
  container_port!: number;
}

export class PortForwardDto {
  @ApiProperty() name!: string;
  @ApiProperty() container!: string;
  @ApiProperty({ enum: ['tcp', 'udp'] }) protocol!: 'tcp' | 'udp';
  @ApiProperty() host_port!: number;
  @ApiProperty() container_address!: string;
  @ApiProperty() container_port!: number;
}
