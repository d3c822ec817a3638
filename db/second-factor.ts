import "server-only";
import { and, count, eq, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { Database } from "./client";
import { recoveryCodes, totpCredentials } from "./schema";

/** Queries of the second factor (lib/credentials/totp.ts): the TOTP credential and the recovery codes. */

export async function findTotpCredential(db: Database, userId: string) {
  return db.query.totpCredentials.findFirst({ where: eq(totpCredentials.userId, userId) });
}

export async function hasConfirmedTotp(db: Database, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: totpCredentials.userId })
    .from(totpCredentials)
    .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)));
  return Boolean(row);
}

export async function countUnusedRecoveryCodes(db: Database, userId: string): Promise<number | undefined> {
  const [left] = await db
    .select({ n: count() })
    .from(recoveryCodes)
    .where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt)));
  return left?.n;
}

/** A pending credential, unless one exists already (two tabs racing: the first row wins). */
export async function insertPendingTotp(
  db: Database,
  values: { userId: string; secretCiphertext: string; pendingRecoveryCodes: string; createdAt: Date },
): Promise<void> {
  await db.insert(totpCredentials).values(values).onConflictDoNothing();
}

/** Removes a pending (not yet confirmed) credential; an enabled one is not touched. */
export async function deletePendingTotp(db: Database, userId: string): Promise<void> {
  await db.delete(totpCredentials).where(and(eq(totpCredentials.userId, userId), isNull(totpCredentials.confirmedAt)));
}

/** In one batch: the recovery codes replaced by these hashes, and the pending credential confirmed at `step`. */
export async function confirmTotp(db: Database, userId: string, input: { codeHashes: string[]; step: number; at: Date }): Promise<void> {
  await db.batch([
    db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
    db.insert(recoveryCodes).values(input.codeHashes.map((codeHash) => ({ userId, codeHash }))),
    db
      .update(totpCredentials)
      .set({ confirmedAt: input.at, lastUsedStep: input.step, pendingRecoveryCodes: null })
      .where(and(eq(totpCredentials.userId, userId), isNull(totpCredentials.confirmedAt))),
  ]);
}

/** Claims a time-step for a confirmed credential: true only if no later or equal step was used before (atomic). */
export async function claimTotpStep(db: Database, userId: string, step: number): Promise<boolean> {
  const claimed = await db
    .update(totpCredentials)
    .set({ lastUsedStep: step })
    .where(
      and(
        eq(totpCredentials.userId, userId),
        isNotNull(totpCredentials.confirmedAt),
        or(isNull(totpCredentials.lastUsedStep), lt(totpCredentials.lastUsedStep, step)),
      ),
    );
  return claimed.rowsAffected === 1;
}

/** Spends an unused recovery code by its hash: true when this call spent it (atomic: one winner). */
export async function spendRecoveryCode(db: Database, userId: string, codeHash: string, at: Date): Promise<boolean> {
  const spent = await db
    .update(recoveryCodes)
    .set({ usedAt: at })
    .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.codeHash, codeHash), isNull(recoveryCodes.usedAt)));
  return spent.rowsAffected === 1;
}

/** The credential and every recovery code of the account go. */
export async function deleteSecondFactor(db: Database, userId: string): Promise<void> {
  await db.batch([db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)), db.delete(totpCredentials).where(eq(totpCredentials.userId, userId))]);
}
