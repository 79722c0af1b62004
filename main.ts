#!/usr/bin/env bun
/** The `nimbus` CLI entry point (Bun): the kernel's CLI over this deployment's composition root. */
import nimbus from './nimbus.config';
import { runCli } from './runtime/cli/main';

runCli(nimbus, process.argv.slice(2));
