// The CLI's usage text, whole (`kube-autosave --help`) and per command (`kube-autosave <command> --help`).
import {
  type CommandName,
  DEFAULT_CONCURRENCY,
  DEFAULT_PAGE_SIZE,
  MAX_CONCURRENCY,
  MAX_PAGE_SIZE,
} from "./commands.js";

export const USAGE = `Usage: kube-autosave <command> [options]

Commands:
  snapshot             snapshot every resource of a cluster to a folder or S3
  list <location>      snapshots under a folder or s3://bucket/prefix, with status and size
  verify <snapshot>    check every file against the manifest (bytes, items, sha256, strays)
  diff <a> <b>         added, removed and changed objects between two snapshots
  restore <snapshot>   re-create a snapshot's objects in a cluster, in dependency order
  history <location> <resource>[.<group>]/<name> [--namespace NS]
                       one object across every snapshot: added, changed (fields), removed
  help                 show this help
  version              print the version

snapshot options:
  --kubeconfig FILE          kubeconfig (default: $KUBECONFIG, its files merged as kubectl does, or ~/.kube/config)
  --context NAME             kubeconfig context (default: its current-context)
  --out DIR                  write under DIR (default: ./backups)
  --bucket NAME              write to this S3 bucket instead of a folder
    --endpoint URL           S3-compatible endpoint (path-style addressing)
    --region REGION          S3 region (default: $AWS_REGION, else the AWS profile's region, else us-east-1)
    --sse AES256|aws:kms     server-side encryption of every object
    --kms-key-id ID          KMS key for --sse aws:kms (default: the bucket's AWS-managed key)
    --object-lock MODE       S3 Object Lock, governance or compliance: every object of the snapshot
                             is written with that mode and a retain-until date (the bucket must
                             have Object Lock enabled); needs --object-lock-days
    --object-lock-days N     days each object stays locked, 1-36500
  --prefix P                 key prefix (default: kube-aws/clusters/<cluster-name>/backup)
  --cluster-name NAME        name recorded in the manifest and prefix (default: the context name)
  --include-namespaces L     comma-separated namespace globs (default: *)
  --exclude-namespaces L     comma-separated namespace globs
  --include-resources L      resource or resource.group globs (default: *); naming a type that is
                             excluded by default (e.g. events) includes it
  --exclude-resources L      resource globs excluded in addition to the defaults
  --page-size N              items per list request, 1-${MAX_PAGE_SIZE} (default: ${DEFAULT_PAGE_SIZE})
  --concurrency N            resource types listed at once, 1-${MAX_CONCURRENCY} (default: ${DEFAULT_CONCURRENCY})
  --raw                      store objects exactly as served (no cleaning)
  --json                     print the summary as JSON

list / verify / diff / restore / history:
  <location> is a folder (e.g. ./backups/kube-aws/clusters/prod/backup) or s3://bucket/prefix;
  <snapshot> is a location followed by a snapshot name (…/backup/2026-11-24_03-00-00).
  --endpoint URL, --region REGION   for s3:// locations (S3-compatible servers: path-style)
  --json                            machine-readable output

history options:
  --namespace NS        the object's namespace (default: default; none for cluster-scoped types)

restore options:
  --kubeconfig FILE, --context NAME   the target cluster (default: current context)
  --namespace L         only these namespaces (comma-separated globs)
  --resource L          only these types (resource or resource.group globs)
  --name L              only objects with these names (comma-separated globs)
  --selector S          only objects matching this label selector (as kubectl -l)
  --namespace-mappings M
                        move namespaces, old:new[,old2:new2] (applied after the filters)
  --keep-reclaim-policy keep the snapshot's PV reclaim policy (default: Retain, so the
                        new cluster never deletes a disk the old one may still use)
  --update              apply objects that already exist (server-side apply, manager kube-autosave)
  --dry-run             ask the API server to validate everything without persisting
  --force               restore a snapshot that has no manifest (incomplete)

Exit codes: 0 ok, 1 failed (or, for verify/restore, problems found), 2 bad usage,
3 snapshot partially failed (see errors) or, for diff, differences found.
`;

/** The option sections of USAGE each command reads (by their heading). */
const READERS = "list / verify / diff / restore / history:";
const SECTIONS: Readonly<Record<CommandName, readonly string[]>> = {
  snapshot: ["snapshot options:"],
  list: [READERS],
  verify: [READERS],
  diff: [READERS],
  restore: [READERS, "restore options:"],
  history: [READERS, "history options:"],
};

/** One command's usage: its line of the command list, its option sections, the exit codes. */
export function commandUsage(command: CommandName): string {
  const blocks = USAGE.split("\n\n");
  const list = (blocks.find((b) => b.startsWith("Commands:")) ?? "").split("\n").slice(1);
  const at = list.findIndex((l) => l.startsWith(`  ${command} `) || l === `  ${command}`);
  const lines = [list[at] ?? ""];
  for (let i = at + 1; i < list.length && /^ {4,}/.test(list[i] as string); i++)
    lines.push(list[i] as string);
  const sections = blocks.filter((b) => SECTIONS[command].some((h) => b.startsWith(h)));
  const exit = blocks.find((b) => b.startsWith("Exit codes:")) ?? "";
  return `Usage: kube-autosave ${command} [options]\n\n${lines.join("\n")}\n\n${[...sections, exit].join("\n\n").trimEnd()}\n`;
}
