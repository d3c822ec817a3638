/** OWASP's Argon2id parameters: 19 MiB, 2 passes, 1 lane. Shared with the bench's floor app (scripts/bench/floor.ts). */
export const ARGON2ID = {
  algorithm: 2 /* Algorithm.Argon2id, a const enum isolatedModules cannot read */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;
