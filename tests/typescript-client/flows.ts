// A formulary web app's use of the catalog, written against the types openapi-typescript generates
// from the committed document (generated/catalog.d.ts) and sent by openapi-fetch: no hand-written
// request, no cast. TypeScriptClientTests type-checks it (tsc, strict) and runs it with node against
// the real API: CATALOG_URL is the service, CATALOG_API_KEY a key with the scope catalog:write.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/catalog.js";

type Therapy = components["schemas"]["Therapy"];
type TherapyInput = components["schemas"]["TherapyInput"];
type TherapyPatch = components["schemas"]["TherapyPatch"];
type ChangeItem = components["schemas"]["ChangeItem"];

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`Flow failed: ${what}`);
  }
}

function required(name: string): string {
  const value = process.env[name];
  check(value !== undefined && value !== "", `${name} is set`);
  return value;
}

const catalog = createClient<paths>({ baseUrl: required("CATALOG_URL") });
const writeKey = { "X-Api-Key": required("CATALOG_API_KEY") };
const report: Record<string, number | string> = {};

// 1. Search by condition and page with nextCursor, one therapy per page so paging is exercised.
async function searchByCondition(): Promise<void> {
  const slugs: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await catalog.GET("/v1/therapies", {
      params: { query: cursor === undefined ? { condition: "SMA", limit: 1 } : { condition: "SMA", limit: 1, cursor } },
    });
    check(page.data !== undefined, `GET /v1/therapies answered ${page.response.status}`);
    pages += 1;
    const items: Therapy[] = page.data.items;
    for (const item of items) {
      slugs.push(item.slug);
      check((item.matchedConditions ?? []).some((m) => m.conditionId === "spinal-muscular-atrophy"), `${item.slug} matched SMA`);
    }
    cursor = page.data.nextCursor ?? undefined;
  } while (cursor !== undefined && pages < 50);
  check(cursor === undefined, "the last page has no nextCursor");
  check(slugs.includes("zolgensma"), `SMA finds zolgensma (found ${slugs.join(", ")})`);
  check(pages >= 2 && pages === slugs.length, `one therapy a page over several pages (${pages} pages, ${slugs.length} items)`);
  check(new Set(slugs).size === slugs.length, "no therapy on two pages");
  report.smaPages = pages;
}

// 2. Read one therapy, then read it again with If-None-Match: 304, no body.
async function readWithETag(): Promise<void> {
  const first = await catalog.GET("/v1/therapies/{idOrSlug}", { params: { path: { idOrSlug: "zolgensma" } } });
  check(first.data !== undefined, `GET zolgensma answered ${first.response.status}`);
  check(first.data.slug === "zolgensma" && first.data.vector === "aav", "zolgensma is the AAV therapy");
  const etag = first.response.headers.get("ETag");
  check(etag !== null, "a read carries an ETag");

  const again = await catalog.GET("/v1/therapies/{idOrSlug}", {
    params: { path: { idOrSlug: "zolgensma" }, header: { "If-None-Match": etag } },
  });
  check(again.response.status === 304, `If-None-Match with the current ETag answers 304 (got ${again.response.status})`);
  check(again.data === undefined, "a 304 has no body");
}

// 3. Export the catalog as NDJSON; its X-Catalog-Cursor is where the change feed is followed from.
async function exportCatalog(): Promise<string> {
  const exported = await catalog.GET("/v1/export", { params: { query: { format: "ndjson" } }, parseAs: "text" });
  check(exported.data !== undefined, `GET /v1/export answered ${exported.response.status}`);
  const lines = exported.data.split("\n").filter((line) => line.length > 0);
  const therapies: Therapy[] = lines.map((line) => JSON.parse(line));
  check(therapies.some((t) => t.slug === "zolgensma"), "the export holds zolgensma");
  check(therapies.every((t) => t.version >= 1 && t.id.length > 0), "every export line is a therapy with an id and a version");
  const cursor = exported.response.headers.get("X-Catalog-Cursor");
  check(cursor !== null, "the export names its change-feed position");
  report.exported = therapies.length;
  return cursor;
}

// 4. Create with Idempotency-Key (a retry replays the first answer), merge patch with If-Match,
//    clear a member with null, a stale If-Match is a 412, delete.
async function writeOneTherapy(): Promise<string> {
  const suffix = Math.random().toString(16).slice(2, 10);
  const input: TherapyInput = {
    slug: `ts-client-${suffix}`,
    proprietaryName: `Tsclientcel ${suffix}`,
    properName: "tsclientcabtagene autoleucel",
    manufacturer: "TypeScript Client Therapeutics",
    modality: "cell-based-gene",
    cellSource: "autologous",
    delivery: "ex-vivo",
    mechanism: "introduce",
    vector: "lentiviral",
    vectorDetail: null,
    target: "CD19",
    route: "intravenous",
    administration: {
      summary: "single intravenous infusion", infusionMinutes: 30,
      requiresLeukapheresis: true, requiresLymphodepletion: true, rems: false,
    },
    indications: [{ conditionId: "large-b-cell-lymphoma", population: "adults with relapsed or refractory LBCL", regulator: "FDA", approvedOn: "2024-01-15" }],
    approvals: [{ regulator: "FDA", applicationNumber: null, approvedOn: "2024-01-15", status: "approved" }],
    listPrice: { amount: 400000, currency: "USD", year: 2024, source: "https://example.org/price" },
    ndcs: [],
    status: "active",
    sources: ["https://example.org/label"],
  };
  const idempotencyKey = `ts-client-create-${suffix}`;
  const created = await catalog.POST("/v1/therapies", {
    params: { header: { "Idempotency-Key": idempotencyKey } }, headers: writeKey, body: input,
  });
  check(created.response.status === 201 && created.data !== undefined, `POST /v1/therapies answered ${created.response.status}`);
  const id = created.data.id;
  check(created.data.version === 1, "a new therapy is version 1");
  const createdTag = created.response.headers.get("ETag");
  check(createdTag !== null, "a create answers with an ETag");

  const replay = await catalog.POST("/v1/therapies", {
    params: { header: { "Idempotency-Key": idempotencyKey } }, headers: writeKey, body: input,
  });
  check(replay.response.status === 201 && replay.data !== undefined && replay.data.id === id, "the retry with the same Idempotency-Key replays the first answer");

  const patch: TherapyPatch = { vectorDetail: "VSV-G pseudotyped lentivirus" };
  const patched = await catalog.PATCH("/v1/therapies/{idOrSlug}", {
    params: { path: { idOrSlug: id }, header: { "If-Match": createdTag } },
    headers: { ...writeKey, "Content-Type": "application/merge-patch+json" }, body: patch,
  });
  check(patched.data !== undefined, `PATCH vectorDetail answered ${patched.response.status}`);
  check(patched.data.vectorDetail === "VSV-G pseudotyped lentivirus" && patched.data.version === 2, "the patch set vectorDetail (version 2)");
  check(patched.data.target === "CD19" && patched.data.listPrice?.amount === 400000, "members the patch left out are kept");
  const patchedTag = patched.response.headers.get("ETag");
  check(patchedTag !== null, "a patch answers with an ETag");

  const cleared = await catalog.PATCH("/v1/therapies/{idOrSlug}", {
    params: { path: { idOrSlug: id }, header: { "If-Match": patchedTag } },
    headers: { ...writeKey, "Content-Type": "application/merge-patch+json" }, body: { listPrice: null },
  });
  check(cleared.data !== undefined, `PATCH listPrice: null answered ${cleared.response.status}`);
  check(cleared.data.listPrice === null || cleared.data.listPrice === undefined, "listPrice: null cleared the price");
  check(cleared.data.version === 3 && cleared.data.vectorDetail === "VSV-G pseudotyped lentivirus", "the clear is version 3 and kept the rest");
  const currentTag = cleared.response.headers.get("ETag");
  check(currentTag !== null, "the clear answers with an ETag");

  const stale = await catalog.PATCH("/v1/therapies/{idOrSlug}", {
    params: { path: { idOrSlug: id }, header: { "If-Match": createdTag } },
    headers: { ...writeKey, "Content-Type": "application/merge-patch+json" }, body: { target: "BCMA" },
  });
  check(stale.response.status === 412, `a stale If-Match answers 412 (got ${stale.response.status})`);
  check(stale.error !== undefined && stale.error.status === 412, "the 412 is a problem document of its status");

  const unchanged = await catalog.GET("/v1/therapies/{idOrSlug}", { params: { path: { idOrSlug: id } } });
  check(unchanged.data !== undefined && unchanged.data.target === "CD19" && unchanged.data.version === 3, "the refused write changed nothing");

  const deleted = await catalog.DELETE("/v1/therapies/{idOrSlug}", {
    params: { path: { idOrSlug: id }, header: { "If-Match": currentTag } }, headers: writeKey,
  });
  check(deleted.response.status === 204, `DELETE answered ${deleted.response.status}`);
  const gone = await catalog.GET("/v1/therapies/{idOrSlug}", { params: { path: { idOrSlug: id } } });
  check(gone.response.status === 404 && gone.error !== undefined && gone.error.status === 404, "a deleted therapy is not found");
  return id;
}

// 5. Follow the change feed from the export's cursor to its end: the writes above are there, in order.
async function followChanges(after: string, id: string): Promise<void> {
  const mine: ChangeItem[] = [];
  let cursor = after;
  let pages = 0;
  // Until the delete (the last write) is there: each page long-polls, since the feed hands a change
  // out only once no older transaction on the database (another test's) can still commit.
  while (!mine.some((c) => c.kind === "delete") && pages <= 100) {
    const page = await catalog.GET("/v1/changes", { params: { query: { after: cursor, limit: 2, wait: 30 } } });
    check(page.data !== undefined, `GET /v1/changes answered ${page.response.status}`);
    pages += 1;
    check(page.data.changes.length > 0, "the feed hands out the writes within the long poll");
    mine.push(...page.data.changes.filter((c) => c.therapyId === id));
    cursor = page.data.nextCursor;
  }
  check(pages <= 100, "the feed has an end");
  const kinds = mine.map((c) => `${c.kind}:${c.version}`).join(",");
  check(kinds === "upsert:1,upsert:2,upsert:3,delete:4", `the feed carries create, patch, clear and delete in order (got ${kinds})`);
  const last = mine[mine.length - 1];
  check(last !== undefined && (last.therapy === null || last.therapy === undefined), "a tombstone has no document");
  const second = mine[1];
  check(second !== undefined && second.therapy?.vectorDetail === "VSV-G pseudotyped lentivirus", "an upsert carries the stored document");
  report.changePages = pages;
}

await searchByCondition();
await readWithETag();
const exportCursor = await exportCatalog();
const id = await writeOneTherapy();
await followChanges(exportCursor, id);
console.log(`typescript client flows passed ${JSON.stringify(report)}`);
