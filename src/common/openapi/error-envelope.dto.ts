import { ApiProperty } from '@nestjs/swagger';

export class ErrorDetailDto {
  @ApiProperty({ example: 'email', description: 'Dotted path of the offending input' })
  field!: string;

  @ApiProperty({ type: [String], example: ['email must be an email'] })
  messages!: string[];
}

/** The error envelope, documented once and referenced by every route's error responses. */
export class ErrorEnvelopeDto {
  @ApiProperty({ example: 400 })
  status_code!: number;

  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Stable machine-readable code' })
  error!: string;

  @ApiProperty({ example: 'Request validation failed' })
  message!: string;

  @ApiProperty({ type: [ErrorDetailDto], nullable: true })
  details!: ErrorDetailDto[] | null;

  @ApiProperty({ example: '2026-11-23T12:00:00.000Z' })
  timestamp!: string;

  @ApiProperty({ example: '0b6f6c1e-5c43-4d5f-9a6a-2f1f8e3c4d5e' })
  request_id!: string;

  @ApiProperty({ example: '/api/v1/users/add' })
  path!: string;
}

export class PageMetaDto {
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 20 }) per_page!: number;
  @ApiProperty({ example: 42 }) total!: number;
  @ApiProperty({ example: 3 }) total_pages!: number;
  @ApiProperty({ required: false }) request_id?: string;
}

export class PageLinksDto {
  @ApiProperty() self!: string;
  @ApiProperty() first!: string;
  @ApiProperty({ type: String, nullable: true }) prev!: string | null;
  @ApiProperty({ type: String, nullable: true }) next!: string | null;
  @ApiProperty() last!: string;
}

export class ItemMetaDto {
  @ApiProperty({ required: false }) request_id?: string;
}

export class ItemLinksDto {
  @ApiProperty() self!: string;
}
