import { NextResponse } from "next/server";
import type { CodePurpose } from "@/lib/codes/codes";
import { apiError, jsonRoute } from "@/lib/web/json-api";
import { getAccounts } from "@/lib/platform/runtime";
import { emailFromParams } from "@/lib/web/search-params";

/**
 * GET /api/delivery?email=...&purpose=verify_email: how the latest mail asked for went ("sending", "sent",
 * "failed", or "none" when nothing was asked for within a code's life). The same shape for every address: the
 * requests that send nothing (no account, or one already verified) move the state through a decoy, so this
 * tells only that someone asked for mail to the address lately, which whoever asked knows already. Only the
 * purposes anyone may ask for are answered: the signed-in owner's own (a second factor, deletion, an email
 * change) have no decoy, and their state would tell a stranger that the account exists and what its owner does.
 */
const PUBLIC_PURPOSES: readonly CodePurpose[] = ["verify_email", "reset_password", "sign_in"];
export const dynamic = "force-dynamic";

export const GET = jsonRoute(async (request) => {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const email = emailFromParams(params);
  const purpose = (params.purpose ?? "verify_email") as CodePurpose;
  if (!email || !PUBLIC_PURPOSES.includes(purpose)) {
    return apiError("invalid_input", { fields: email ? { purpose: `One of ${PUBLIC_PURPOSES.join(", ")}.` } : { email: "Enter a valid email address." } });
  }
  const delivery = (await (await getAccounts()).deliveryStatus(email, purpose)) ?? "none";
  return NextResponse.json({ email, purpose, delivery }, { headers: { "Cache-Control": "no-store" } });
});
