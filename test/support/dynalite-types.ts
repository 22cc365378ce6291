// dynalite ships no types: the part of its API the tests use.
declare module 'dynalite' {
  import type { Server } from 'node:http';
  interface DynaliteOptions {
    /** Milliseconds a table takes to become ACTIVE (and to delete, to update). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** A directory to keep tables in; in memory without it. */
    path?: string;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}
