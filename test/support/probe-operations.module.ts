import { Body, Controller, Module, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply as Response } from 'fastify';
import { Auth, Authenticated } from '../../src/auth/auth.decorators.js';
import { Permission, type Principal } from '../../src/auth/principal.js';
import { AppError } from '../../src/common/errors/app-error.js';
import { locate } from '../../src/operations/accepted-operation.js';
import type { OperationDto } from '../../src/operations/dto/operation.dto.js';
import { OperationsModule } from '../../src/operations/operations.module.js';
import { OperationsService } from '../../src/operations/operations.service.js';

interface Gate {
  readonly opened: Promise<{ fail: boolean }>;
  isOpen: boolean;
  open(outcome: { fail: boolean }): void;
}

/** Operations whose runs a test releases by hand, to observe pending, running, cancel, wait and failure. */
const gates = new Map<string, Gate>();

/** The key's gate that has not been opened yet, or a new one. */
function gate(key: string): Gate {
  const existing = gates.get(key);
  if (existing && !existing.isOpen) return existing;
  let resolve!: (outcome: { fail: boolean }) => void;
  const opened = new Promise<{ fail: boolean }>((settle) => (resolve = settle));
  const created: Gate = {
    opened,
    isOpen: false,
    open: (outcome) => {
      created.isOpen = true;
      resolve(outcome);
    },
  };
  gates.set(key, created);
  return created;
}

@Controller('probe-operations')
class ProbeOperationsController {
  constructor(private readonly operationsService: OperationsService) {}

  @Post(':key')
  @Authenticated({ permission: Permission.ContainerWrite })
  async start(
    @Auth() principal: Principal,
    @Param('key') key: string,
    @Res({ passthrough: true }) response: Response,
  ): Promise<OperationDto> {
    const released = gate(key);
    response.status(202);
    return locate(
      response,
      await this.operationsService.submit(principal, {
        type: 'probe.gate',
        resource: { type: 'probe', id: key },
        lockKey: `probe:${key}`,
        input: { key },
        run: async ({ progress }) => {
          progress({ step: 'waiting', message: `waiting for ${key}` });
          const { fail } = await released.opened;
          if (fail) throw new AppError(422, 'PROBE.FAILED', `probe ${key} was told to fail`);
          return { key, released: true };
        },
      }),
    );
  }

  @Post(':key/release')
  @Authenticated({ permission: Permission.ContainerWrite })
  release(@Param('key') key: string, @Body() body: { fail?: boolean }): { released: boolean } {
    const found = gates.get(key);
    found?.open({ fail: body.fail === true });
    return { released: found !== undefined };
  }
}

@Module({ imports: [OperationsModule], controllers: [ProbeOperationsController] })
export class ProbeOperationsModule {}
