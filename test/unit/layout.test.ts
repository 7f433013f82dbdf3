import { describe, expect, it } from "vitest";
import {
  claimKey,
  compareSnapshotNames,
  defaultPrefix,
  formatTimestamp,
  isSnapshotName,
  keyInSnapshot,
  keyOfSnapshotFile,
  listFileKey,
  manifestKey,
  parseFileKey,
  qualifiedResource,
  resourceFileKey,
  snapshotName,
  snapshotOfClaimKey,
  startOfName,
} from "../../src/snapshot/layout.js";

describe("snapshot layout", () => {
  it("formats timestamps as UTC yyyy-MM-dd_HH-mm-ss", () => {
    expect(formatTimestamp(new Date("2026-11-24T03:04:05.678Z"))).toBe("2026-11-24_03-04-05");
    expect(formatTimestamp(new Date("2027-01-02T23:59:09+02:00"))).toBe("2027-01-02_21-59-09");
  });
  it("adds -2, -3… to names of runs in the same second", () => {
    expect([1, 2, 3].map((n) => snapshotName("2026-11-24_03-00-00", n))).toEqual([
      "2026-11-24_03-00-00",
      "2026-11-24_03-00-00-2",
      "2026-11-24_03-00-00-3",
    ]);
    expect(isSnapshotName("2026-11-24_03-00-00-3")).toBe(true);
    expect(isSnapshotName("latest.json")).toBe(false);
  });
  it("orders names by time, then numerically by suffix", () => {
    const names = [
      "2026-11-24_03-00-00-10",
      "2026-11-24_03-00-00",
      "2026-11-25_00-00-00",
      "2026-11-24_03-00-00-2",
    ];
    expect(names.sort(compareSnapshotNames)).toEqual([
      "2026-11-24_03-00-00",
      "2026-11-24_03-00-00-2",
      "2026-11-24_03-00-00-10",
      "2026-11-25_00-00-00",
    ]);
  });
  it("names files with kubectl's resource.group notation, core group bare", () => {
    const snap = "2026-11-24_03-00-00";
    expect(resourceFileKey(snap, { resource: "namespaces", group: "" })).toBe(`${snap}/namespaces.json`);
    expect(resourceFileKey(snap, { resource: "clusterroles", group: "rbac.authorization.k8s.io" })).toBe(
      `${snap}/clusterroles.rbac.authorization.k8s.io.json`,
    );
    expect(resourceFileKey(snap, { resource: "configmaps", group: "" }, "default")).toBe(
      `${snap}/default/configmaps.json`,
    );
    expect(resourceFileKey(snap, { resource: "widgets", group: "example.com" }, "team-a")).toBe(
      `${snap}/team-a/widgets.example.com.json`,
    );
    expect(qualifiedResource({ resource: "deployments", group: "apps" })).toBe("deployments.apps");
  });
  it("keeps the seed's default prefix and puts the manifest and run claims at fixed keys", () => {
    expect(defaultPrefix("prod-eks")).toBe("kube-aws/clusters/prod-eks/backup");
    expect(manifestKey("2026-11-24_03-00-00")).toBe("2026-11-24_03-00-00/manifest.json");
    expect(claimKey("2026-11-24_03-00-00")).toBe(".runs/2026-11-24_03-00-00.json");
  });
  it("reads back the keys it builds: run claims, List files, keys inside a snapshot, start times", () => {
    const snap = "2026-11-24_03-00-00-2";
    expect(snapshotOfClaimKey(claimKey(snap))).toBe(snap);
    expect(snapshotOfClaimKey(".runs/notes.json")).toBeUndefined();
    expect(snapshotOfClaimKey(`.runs/${snap}`)).toBeUndefined();
    expect(snapshotOfClaimKey(`${snap}/manifest.json`)).toBeUndefined();

    const type = { resource: "deployments", group: "apps" };
    const inSnapshot = listFileKey(qualifiedResource(type), "shop");
    expect(inSnapshot).toBe("shop/deployments.apps.json");
    expect(keyOfSnapshotFile(snap, inSnapshot)).toBe(resourceFileKey(snap, type, "shop"));
    expect(keyInSnapshot(snap, keyOfSnapshotFile(snap, inSnapshot))).toBe(inSnapshot);
    expect(parseFileKey(inSnapshot)).toEqual({ key: inSnapshot, namespace: "shop", ...type });
    expect(listFileKey("namespaces", null)).toBe("namespaces.json");
    expect(parseFileKey("manifest.json")).toBeUndefined();

    expect(startOfName(snap)).toBe("2026-11-24T03:00:00.000Z");
    expect(startOfName("latest.json")).toBe("");
  });
});
