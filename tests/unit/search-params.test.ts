import { describe, expect, it } from "vitest";
import { entryFor } from "@/lib/web/search-params";

/** The notice a page shows for ?sessions=…, ?changed=… and the like: only the table's own entries. */
describe("entryFor", () => {
  const table = { ended: "That session was ended." };

  it("finds the table's own entries", () => {
    expect(entryFor(table, "ended")).toBe("That session was ended.");
  });

  it("finds nothing for what every object inherits, nor for a value that is not one string", () => {
    for (const key of ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty"]) expect(entryFor(table, key), key).toBeUndefined();
    for (const key of [undefined, ["ended"], "", "Ended"]) expect(entryFor(table, key)).toBeUndefined();
  });
});
