/** Shared by the verify page (server) and its form (client): what the page says about a delivery. */

export type VerifyNotice = { tone: "success" | "error" | "info"; text: string };

import type { DeliveryState } from "@/lib/mail/delivery-queue";

export type { DeliveryState };

/** What the page says about the delivery queue's state for this address. */
export function deliveryNotice(delivery: DeliveryState): VerifyNotice {
  switch (delivery) {
    case "sending":
      return { tone: "info", text: "Sending… your code is on its way." };
    case "sent":
      return { tone: "success", text: "Sent: your code is on its way to your inbox. Look for a 6-digit code (and check the spam folder)." };
    case "failed":
      return { tone: "error", text: "Your code could not be sent. Send again below, or start again if the address is wrong." };
  }
}
