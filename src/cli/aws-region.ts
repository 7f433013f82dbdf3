// The S3 region as the AWS CLI finds it: --region, then AWS_REGION / AWS_DEFAULT_REGION (parse.ts), then
// the `region` of the profile (AWS_PROFILE, else "default") in the AWS config file, and for S3 without any
// of these, us-east-1 (the AWS CLI's own fallback for s3 commands).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** What S3 commands use when nothing names a region (the AWS CLI does the same). */
export const FALLBACK_S3_REGION = "us-east-1";

/** The region of the active profile in the AWS config file; undefined when there is none. */
export async function profileRegion(env: Record<string, string | undefined>): Promise<string | undefined> {
  const file = env.AWS_CONFIG_FILE || join(env.HOME ?? homedir(), ".aws", "config");
  const profile = env.AWS_PROFILE || "default";
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined; // no config file: nothing configured
  }
  const wanted = profile === "default" ? ["default", "profile default"] : [`profile ${profile}`];
  let inProfile = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inProfile = wanted.includes((section[1] as string).replace(/\s+/g, " "));
      continue;
    }
    const pair = /^region\s*=\s*(\S+)$/.exec(line);
    if (inProfile && pair) return pair[1];
  }
  return undefined;
}

/** The region for an S3 client: the one given, else the profile's, else us-east-1. */
export async function s3Region(
  given: string | undefined,
  env: Record<string, string | undefined>,
): Promise<string> {
  return given ?? (await profileRegion(env)) ?? FALLBACK_S3_REGION;
}
