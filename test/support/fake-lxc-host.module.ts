import { Global, Module, type DynamicModule } from '@nestjs/common';
import { LXC_HOST_OPTIONS, type LxcHostOptions } from '../../src/lxc/lxc-host.js';

/** Points LxcHost's host paths (templates, download cache, interfaces) at a fake tool set's copies. */
@Global()
@Module({})
export class FakeLxcHostModule {
  static with(options: LxcHostOptions): DynamicModule {
    return {
      module: FakeLxcHostModule,
      providers: [{ provide: LXC_HOST_OPTIONS, useValue: options }],
      exports: [LXC_HOST_OPTIONS],
    };
  }
}
