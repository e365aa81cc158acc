import { Body, Controller, Get, Module, Post, Query, Req } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsEmail, IsInt, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import type { FastifyRequest as Request } from 'fastify';
import { Public } from '../../src/auth/auth.decorators.js';
import { Page, PaginationQueryDto } from '../../src/common/pagination/pagination.js';

class ProbeListQueryDto extends PaginationQueryDto {
  @IsOptional()
  @IsString()
  q?: string;
}

class ProbeAddressDto {
  @IsString()
  @Length(1, 50)
  city!: string;
}

export class ProbeBodyDto {
  @IsEmail()
  email!: string;

  @IsInt()
  @Min(0)
  @Max(150)
  age!: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => ProbeAddressDto)
  address?: ProbeAddressDto;
}

/** Routes that exist only in tests, to drive the plumbing (validation, envelopes, paging, errors). */
@Public()
@Controller('probe')
class ProbeController {
  @Post()
  echo(@Body() body: ProbeBodyDto): ProbeBodyDto {
    return body;
  }

  @Get('items')
  list(@Query() query: ProbeListQueryDto): Page<{ n: number }> {
    const total = 45;
    const items = Array.from({ length: Math.max(0, Math.min(query.per_page, total - query.offset)) }, (_, i) => ({
      n: query.offset + i + 1,
    }));
    return new Page(items, total, query);
  }

  @Get('boom')
  boom(): never {
    throw new Error('secret internals: password=hunter2 at /srv/app.ts:42');
  }

  @Get('slow')
  async slow(@Req() request: Request): Promise<{ waited_ms: number }> {
    const ms = Number((request.query as { ms?: string }).ms ?? 500);
    // Stops waiting when the client goes away, so an abandoned request leaves no timer behind.
    await new Promise<void>((resolve) => {
      const socket = request.socket;
      const stop = () => {
        clearTimeout(timer);
        socket.off('close', stop);
        resolve();
      };
      const timer = setTimeout(stop, ms);
      socket.once('close', stop);
    });
    return { waited_ms: ms };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
