// serverless.yml, packaged offline by osls + serverless-esbuild (no AWS account, no credentials):
// the artifact, cfn-lint on the generated CloudFormation, and the behaviour users and operators
// rely on (DESIGN.md): schedule, retries, alarms, bucket security, least-privilege IAM, access
// entries, and the params that change the stack's shape. Each variant is packaged once.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings use ${...}.
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cfnLint,
  type IamStatement,
  iamStatements,
  type Json,
  onlyResource,
  type PackageResult,
  packageService,
  type Resource,
  readZip,
  repoRoot,
  resourceById,
  resourcesOfType,
  text,
} from "../support/cfn.js";
import { startEksStandIn } from "../support/eks-standin.js";
import { sharedCluster, sharedS3 } from "../support/shared.js";
import { TESTBED_AWS, TESTBED_EKS_CLUSTER } from "../support/testbed.js";

const VARIANTS = {
  single: { cluster: "prod-eks" },
  multi: { clusters: "prod-eks,staging-eks", massDeletionPercent: "10" },
  existingBucket: { cluster: "prod-eks", bucket: "existing-bucket", prefix: "backups/{cluster}" },
  noAccessEntry: { cluster: "prod-eks", createAccessEntry: "false" },
  alarmEmail: { cluster: "prod-eks", alarmEmail: "oncall@example.com" },
  vpc: {
    cluster: "prod-eks",
    subnetIds: "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    securityGroupIds: "sg-0123456789abcdef0",
  },
  locked: { cluster: "prod-eks", objectLock: "governance" },
  lockedExisting: {
    cluster: "prod-eks",
    bucket: "existing-bucket",
    objectLock: "compliance",
    objectLockDays: "90",
  },
} as const satisfies Record<string, Record<string, string>>;
type Variant = keyof typeof VARIANTS;

const pkgs = {} as Record<Variant, PackageResult>;
const t = (v: Variant): Json => pkgs[v].template;

const EKS_ARN = (name: string) =>
  `arn:\${AWS::Partition}:eks:\${AWS::Region}:\${AWS::AccountId}:cluster/${name}`;
const ADMIN_VIEW = "arn:${AWS::Partition}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy";
const S3_OBJECT_ACTIONS = [
  "s3:PutObject",
  "s3:GetObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
];

const byAction = (stmts: IamStatement[], action: string) => stmts.filter((s) => s.Action.includes(action));
const alarms = (v: Variant, metric: string): Resource[] =>
  resourcesOfType(t(v), "AWS::CloudWatch::Alarm").filter((a) => a.Properties.MetricName === metric);
const dims = (a: Resource): Record<string, Json> =>
  Object.fromEntries(a.Properties.Dimensions.map((d: Json) => [d.Name, d.Value]));

beforeAll(async () => {
  // One after the other: serverless-esbuild builds in the service's .esbuild/ directory.
  for (const [name, params] of Object.entries(VARIANTS)) {
    pkgs[name as Variant] = await packageService("test", params);
  }
}, 240_000);

afterAll(async () => {
  await Promise.all(Object.values(pkgs).map((p) => p.cleanup()));
});

describe("serverless package (osls, offline)", () => {
  it("packages every variant without credentials, and warns about nothing but the Fn::ForEach loops", () => {
    for (const [name, p] of Object.entries(pkgs)) {
      expect(p.output, name).toContain("Service packaged");
      // osls's schema does not know Fn::ForEach under resources.Resources (configValidationMode:
      // warn); any other configuration problem must still show up here.
      const problems = p.output
        .split("\n")
        .filter((l) => /^\s+at '/.test(l))
        .filter((l) => !/unrecognized property 'Fn::ForEach::/.test(l));
      expect(problems, name).toEqual([]);
    }
  });

  it("builds one bundled CommonJS handler with the AWS SDK inside (nothing left to the runtime)", async () => {
    const files = await readZip(`${pkgs.single.dir}/kube-autosave.zip`);
    expect([...files.keys()].sort()).toEqual(["src/handlers/snapshot.cjs", "src/handlers/snapshot.cjs.map"]);
    const code = files.get("src/handlers/snapshot.cjs")!.toString("utf8");
    expect(code).toContain("node_modules/@aws-sdk/client-s3/");
    expect(code).toContain("node_modules/@aws-sdk/client-eks/");
    // Only Node built-ins are required at run time (the SDK's error texts quote `[require("…")]`).
    const required = [...code.matchAll(/(?<![\w$.[])require\("([^"]+)"\)/g)].map((m) => m[1]!);
    const builtins = new Set((await import("node:module")).builtinModules);
    expect(required.filter((r) => !r.startsWith("node:") && !builtins.has(r))).toEqual([]);
    expect(code).toMatch(/^\/\/# sourceMappingURL=snapshot\.cjs\.map$/m);
  });

  it("passes cfn-lint with no errors (and no warnings)", async () => {
    const matches = await cfnLint(Object.values(pkgs).map((p) => p.templatePath));
    const show = (m: (typeof matches)[number]) =>
      `${m.Level} ${m.Rule.Id} ${m.Location.Path.join("/")}: ${m.Message}`;
    expect(matches.filter((m) => m.Level === "Error").map(show)).toEqual([]);
    expect(matches.filter((m) => m.Level === "Warning").map(show)).toEqual([]);
  });
});

describe("the function", () => {
  it("is nodejs24.x on arm64 with 512 MB, 900 s, no reserved concurrency (runs of several clusters at once) and no async retries", () => {
    const fn = onlyResource(t("single"), "AWS::Lambda::Function").Properties;
    expect(fn.Runtime).toBe("nodejs24.x");
    expect(fn.Architectures).toEqual(["arm64"]);
    expect(fn.Handler).toBe("src/handlers/snapshot.handler");
    expect(fn.MemorySize).toBe(512);
    expect(fn.Timeout).toBe(900);
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.VpcConfig).toBeUndefined();
    const conf = onlyResource(t("single"), "AWS::Lambda::EventInvokeConfig").Properties;
    expect(conf.MaximumRetryAttempts).toBe(0);
    expect(conf.FunctionName).toEqual({ Ref: "SnapshotLambdaFunction" });
    expect(onlyResource(t("single"), "AWS::Logs::LogGroup").Properties.RetentionInDays).toBe(30);
  });

  it("gets its configuration from the environment the handler reads", () => {
    const env = onlyResource(t("single"), "AWS::Lambda::Function").Properties.Environment.Variables;
    expect(env).toEqual({
      CLUSTER_NAME: "prod-eks",
      CLUSTER_NAMES: "prod-eks",
      BUCKET: { Ref: "SnapshotBucket" },
      PREFIX: "kube-aws/clusters/{cluster}/backup",
      SSE_MODE: "aws:kms",
      KMS_KEY_ID: { "Fn::GetAtt": ["SnapshotKey", "Arn"] },
      POWERTOOLS_SERVICE_NAME: "kube-autosave",
      POWERTOOLS_METRICS_NAMESPACE: "KubeAutosave",
      LOG_LEVEL: "INFO",
      PAGE_SIZE: "500",
      CONCURRENCY: "4",
      OBJECT_LOCK: "off",
      // retentionDays's default, a YAML number (Lambda's environment holds it as the string "30").
      OBJECT_LOCK_DAYS: 30,
      NODE_OPTIONS: "--enable-source-maps",
    });
    const multi = onlyResource(t("multi"), "AWS::Lambda::Function").Properties.Environment.Variables;
    expect(multi.CLUSTER_NAMES).toBe("prod-eks,staging-eks");
    expect(multi.CLUSTER_NAME).toBe("prod-eks");
    const existing = onlyResource(t("existingBucket"), "AWS::Lambda::Function").Properties.Environment
      .Variables;
    expect(existing.BUCKET).toBe("existing-bucket");
    expect(existing.PREFIX).toBe("backups/{cluster}");
  });

  it("runs every 24 hours with the cluster as input, and EventBridge may invoke it", () => {
    const rule = onlyResource(t("single"), "AWS::Events::Rule");
    expect(rule.Properties.ScheduleExpression).toBe("rate(24 hours)");
    expect(rule.Properties.State).toBe("ENABLED");
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0].Arn).toEqual({ "Fn::GetAtt": ["SnapshotLambdaFunction", "Arn"] });
    expect(JSON.parse(rule.Properties.Targets[0].Input)).toEqual({
      cluster: "prod-eks",
      trigger: "schedule",
    });
    const perm = onlyResource(t("single"), "AWS::Lambda::Permission").Properties;
    expect(perm).toMatchObject({ Action: "lambda:InvokeFunction", Principal: "events.amazonaws.com" });
    expect(perm.SourceArn).toEqual({ "Fn::GetAtt": [rule.id, "Arn"] });
  });

  it("runs in the given subnets and security groups only when subnetIds is set", () => {
    const fn = onlyResource(t("vpc"), "AWS::Lambda::Function").Properties;
    expect(fn.VpcConfig).toEqual({
      SubnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
      SecurityGroupIds: ["sg-0123456789abcdef0"],
    });
    const role = (v: Variant) => onlyResource(t(v), "AWS::IAM::Role").Properties.ManagedPolicyArns;
    expect(role("vpc")).toEqual([
      { "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" },
    ]);
    expect(role("single")).toBeUndefined();
  });
});

describe("the bucket", () => {
  const bucket = () => resourceById(t("single"), "SnapshotBucket");

  it("blocks public access, is versioned and is retained with the stack", () => {
    const b = bucket();
    expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(b.Properties.VersioningConfiguration).toEqual({ Status: "Enabled" });
    expect(b.DeletionPolicy).toBe("Retain");
  });

  it("encrypts with SSE-KMS under the stack's key, with a bucket key", () => {
    expect(bucket().Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      {
        ServerSideEncryptionByDefault: {
          SSEAlgorithm: "aws:kms",
          KMSMasterKeyID: { "Fn::GetAtt": ["SnapshotKey", "Arn"] },
        },
        BucketKeyEnabled: true,
      },
    ]);
    const key = onlyResource(t("single"), "AWS::KMS::Key").Properties;
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Allow",
        Principal: { AWS: { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root" } },
        Action: "kms:*",
      }),
    ]);
  });

  it("expires snapshots under the prefix after 30 days and incomplete uploads after 1 day", () => {
    const rules: Json[] = bucket().Properties.LifecycleConfiguration.Rules;
    expect(rules.every((r) => r.Status === "Enabled")).toBe(true);
    const expire = rules.find((r) => r.ExpirationInDays !== undefined);
    expect(expire).toMatchObject({
      ExpirationInDays: 30,
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
    });
    // The rule covers every cluster's prefix (the part of the prefix before {cluster}).
    expect(expire.Prefix).toBe("kube-aws/clusters/");
    expect("kube-aws/clusters/prod-eks/backup/x".startsWith(expire.Prefix)).toBe(true);
    const abort = rules.find((r) => r.AbortIncompleteMultipartUpload !== undefined);
    expect(abort.AbortIncompleteMultipartUpload).toEqual({ DaysAfterInitiation: 1 });
    expect(abort.Prefix ?? "").toBe("");
  });

  it("denies every request that is not over TLS", () => {
    const policy = resourceById(t("single"), "SnapshotBucketPolicy").Properties;
    expect(policy.Bucket).toEqual({ Ref: "SnapshotBucket" });
    const deny = policy.PolicyDocument.Statement.find((s: Json) => s.Effect === "Deny");
    expect(deny).toMatchObject({
      Principal: "*",
      Action: "s3:*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(deny.Resource).toEqual([
      { "Fn::GetAtt": ["SnapshotBucket", "Arn"] },
      { "Fn::Sub": "${SnapshotBucket.Arn}/*" },
    ]);
  });

  it("has no Object Lock unless objectLock is given", () => {
    expect(bucket().Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket().Properties.ObjectLockConfiguration).toBeUndefined();
  });

  it("with objectLock=governance: Object Lock on, a GOVERNANCE default retention of retentionDays, still versioned and expiring", () => {
    const b = resourceById(t("locked"), "SnapshotBucket").Properties;
    expect(b.ObjectLockEnabled).toBe(true);
    expect(b.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: "Enabled",
      Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 30 } },
    });
    expect(b.VersioningConfiguration).toEqual({ Status: "Enabled" });
    // Lifecycle and lock agree: the lock ends the day the snapshot expires (objectLockDays = retentionDays).
    const expire = b.LifecycleConfiguration.Rules.find((r: Json) => r.ExpirationInDays !== undefined);
    expect(expire).toMatchObject({
      ExpirationInDays: 30,
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
    });
    const env = onlyResource(t("locked"), "AWS::Lambda::Function").Properties.Environment.Variables;
    expect(env).toMatchObject({ OBJECT_LOCK: "governance", OBJECT_LOCK_DAYS: 30 });
  });

  it("is not created when an existing bucket is given", () => {
    expect(resourcesOfType(t("existingBucket"), "AWS::S3::Bucket").map((r) => r.id)).not.toContain(
      "SnapshotBucket",
    );
    expect(resourcesOfType(t("existingBucket"), "AWS::S3::BucketPolicy").map((r) => r.id)).not.toContain(
      "SnapshotBucketPolicy",
    );
    expect(t("existingBucket").Outputs.SnapshotBucketName.Value).toBe("existing-bucket");
  });
});

describe("Object Lock on an existing bucket", () => {
  it("locks with the given mode and days, creates no bucket, and may set retention under the prefix only", () => {
    expect(resourcesOfType(t("lockedExisting"), "AWS::S3::Bucket").map((r) => r.id)).toEqual([
      "ServerlessDeploymentBucket",
    ]);
    const env = onlyResource(t("lockedExisting"), "AWS::Lambda::Function").Properties.Environment.Variables;
    expect(env).toMatchObject({
      BUCKET: "existing-bucket",
      OBJECT_LOCK: "compliance",
      OBJECT_LOCK_DAYS: "90",
    });
    const retention = byAction(iamStatements(t("lockedExisting")), "s3:PutObjectRetention");
    expect(retention.flatMap((s) => s.Resource).map(text)).toEqual([
      "arn:${AWS::Partition}:s3:::existing-bucket/kube-aws/clusters/prod-eks/backup/*",
    ]);
  });
});

describe("least-privilege IAM", () => {
  const ours = (stmts: IamStatement[]) => stmts.filter((s) => s.Action.some((a) => /^(eks|s3|kms):/.test(a)));

  it("never grants eks:, s3: or kms: actions on every resource, and never s3:* or kms:* actions", () => {
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      for (const s of ours(iamStatements(t(v)))) {
        expect(s.Effect, `${v} ${s.source}`).toBe("Allow");
        expect(s.Resource, `${v} ${s.source} ${s.Action}`).not.toContain("*");
        expect(
          s.Action.filter((a) => a.includes("*")),
          `${v} ${s.source}`,
        ).toEqual([]);
      }
      // Metrics go out as EMF log lines.
      expect(byAction(iamStatements(t(v)), "cloudwatch:PutMetricData"), v).toEqual([]);
    }
  });

  it("allows eks:DescribeCluster on cluster/prod-eks only", () => {
    const s = byAction(iamStatements(t("single")), "eks:DescribeCluster");
    expect(s.flatMap((x) => x.Resource).map(text)).toEqual([EKS_ARN("prod-eks")]);
    expect(s.flatMap((x) => x.Action)).toEqual(["eks:DescribeCluster"]);
  });

  it("allows S3 object actions only under the cluster's prefix, and listing only of that prefix", () => {
    const stmts = iamStatements(t("single"));
    for (const action of S3_OBJECT_ACTIONS) {
      expect(
        byAction(stmts, action)
          .flatMap((s) => s.Resource)
          .map(text),
        action,
      ).toEqual(["arn:${AWS::Partition}:s3:::${SnapshotBucket}/kube-aws/clusters/prod-eks/backup/*"]);
    }
    const s3Actions = stmts.flatMap((s) => s.Action).filter((a) => a.startsWith("s3:"));
    expect(new Set(s3Actions)).toEqual(new Set([...S3_OBJECT_ACTIONS, "s3:ListBucket"]));
    // Setting a retention on PutObject is only granted with objectLock.
    const locked = iamStatements(t("locked"))
      .flatMap((s) => s.Action)
      .filter((a) => a.startsWith("s3:"));
    expect(new Set(locked)).toEqual(
      new Set([...S3_OBJECT_ACTIONS, "s3:PutObjectRetention", "s3:ListBucket"]),
    );
    const list = byAction(stmts, "s3:ListBucket");
    expect(list).toHaveLength(1);
    expect(list[0]!.Resource.map(text)).toEqual(["arn:${AWS::Partition}:s3:::${SnapshotBucket}"]);
    expect(list[0]!.Condition).toEqual({
      StringLike: { "s3:prefix": "kube-aws/clusters/prod-eks/backup/*" },
    });
  });

  it("allows only GenerateDataKey, Decrypt and Encrypt, and only on the stack's key", () => {
    const kms = iamStatements(t("single")).filter((s) => s.Action.some((a) => a.startsWith("kms:")));
    expect(kms).toHaveLength(1);
    expect(kms[0]!.Action.sort()).toEqual(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]);
    expect(kms[0]!.Resource).toEqual([{ "Fn::GetAtt": ["SnapshotKey", "Arn"] }]);
  });

  it("scopes S3 to an existing bucket and a custom prefix", () => {
    const stmts = iamStatements(t("existingBucket"));
    for (const action of S3_OBJECT_ACTIONS) {
      expect(
        byAction(stmts, action)
          .flatMap((s) => s.Resource)
          .map(text),
        action,
      ).toEqual(["arn:${AWS::Partition}:s3:::existing-bucket/backups/prod-eks/*"]);
    }
    const list = byAction(stmts, "s3:ListBucket");
    expect(list.flatMap((s) => s.Resource).map(text)).toEqual(["arn:${AWS::Partition}:s3:::existing-bucket"]);
    expect(list[0]!.Condition).toEqual({ StringLike: { "s3:prefix": "backups/prod-eks/*" } });
  });
});

describe("the EKS access entry", () => {
  it("gives the function's role AmazonEKSAdminViewPolicy on the whole cluster", () => {
    const entry = onlyResource(t("single"), "AWS::EKS::AccessEntry").Properties;
    expect(entry).toEqual({
      ClusterName: "prod-eks",
      PrincipalArn: { "Fn::GetAtt": ["IamRoleLambdaExecution", "Arn"] },
      Type: "STANDARD",
      AccessPolicies: [{ PolicyArn: { "Fn::Sub": ADMIN_VIEW }, AccessScope: { Type: "cluster" } }],
    });
    const fnRole = onlyResource(t("single"), "AWS::Lambda::Function").Properties.Role;
    expect(fnRole).toEqual({ "Fn::GetAtt": ["IamRoleLambdaExecution", "Arn"] });
  });

  it("is not created with createAccessEntry=false", () => {
    expect(resourcesOfType(t("noAccessEntry"), "AWS::EKS::AccessEntry")).toEqual([]);
    // Everything else stays.
    expect(resourcesOfType(t("noAccessEntry"), "AWS::Events::Rule")).toHaveLength(1);
  });
});

describe("alarms", () => {
  const topic = { Ref: "AlarmTopic" };

  it("pages when no snapshot of the cluster completed for 25 hours", () => {
    const [missed, ...more] = alarms("single", "SnapshotCompleted");
    expect(more).toEqual([]);
    expect(missed!.Properties).toMatchObject({
      Namespace: "KubeAutosave",
      Statistic: "Sum",
      Period: 3600,
      EvaluationPeriods: 25,
      DatapointsToAlarm: 25,
      ComparisonOperator: "LessThanThreshold",
      Threshold: 1,
      TreatMissingData: "breaching",
      AlarmActions: [topic],
      OKActions: [topic],
    });
    // Powertools Metrics adds its `service` dimension to every EMF metric; the alarm must match the
    // metric's exact dimension set.
    expect(dims(missed!)).toEqual({ Cluster: "prod-eks", service: "kube-autosave" });
  });

  it("pages on SnapshotErrors >= 1 and on the function's own Errors >= 1", () => {
    const [errors, ...more] = alarms("single", "SnapshotErrors");
    expect(more).toEqual([]);
    expect(errors!.Properties).toMatchObject({
      Namespace: "KubeAutosave",
      Statistic: "Sum",
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 1,
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expect(dims(errors!)).toEqual({ Cluster: "prod-eks", service: "kube-autosave" });
    const [lambda, ...others] = alarms("single", "Errors");
    expect(others).toEqual([]);
    expect(lambda!.Properties).toMatchObject({
      Namespace: "AWS/Lambda",
      Statistic: "Sum",
      EvaluationPeriods: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      Threshold: 1,
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expect(dims(lambda!)).toEqual({ FunctionName: { Ref: "SnapshotLambdaFunction" } });
  });

  it("pages when a snapshot finds more than massDeletionPercent (20) of the previous snapshot's objects removed", () => {
    const [mass, ...more] = alarms("single", "ObjectsRemovedPercent");
    expect(more).toEqual([]);
    expect(mass!.Properties).toMatchObject({
      Namespace: "KubeAutosave",
      Statistic: "Maximum",
      Period: 3600,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: 20,
      TreatMissingData: "ignore",
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expect(dims(mass!)).toEqual({ Cluster: "prod-eks", service: "kube-autosave" });
    expect(text(mass!.Properties.AlarmDescription)).toContain(
      "more than 20% of the previous snapshot's objects",
    );
  });

  it("e-mails the alarm topic only when alarmEmail is given", () => {
    expect(resourcesOfType(t("single"), "AWS::SNS::Subscription")).toEqual([]);
    const sub = onlyResource(t("alarmEmail"), "AWS::SNS::Subscription").Properties;
    expect(sub).toEqual({ TopicArn: topic, Protocol: "email", Endpoint: "oncall@example.com" });
    expect(onlyResource(t("alarmEmail"), "AWS::SNS::Topic").id).toBe("AlarmTopic");
  });
});

describe("the dashboard", () => {
  /** The dashboard body with CloudFormation's pseudo parameters filled in, as CloudWatch receives it. */
  const body = (v: Variant): Json => {
    const dashboard = onlyResource(t(v), "AWS::CloudWatch::Dashboard");
    const pseudo: Record<string, string> = {
      "AWS::Partition": "aws",
      "AWS::Region": "eu-west-1",
      "AWS::AccountId": "111122223333",
      "AWS::StackName": "kube-autosave-test",
    };
    const render = (node: Json): Json => {
      if (Array.isArray(node)) return node.map(render);
      if (node === null || typeof node !== "object") return node;
      if (typeof node["Fn::Sub"] === "string")
        return node["Fn::Sub"].replace(/\$\{([^}]+)\}/g, (_: string, k: string) => {
          if (!(k in pseudo)) throw new Error(`unresolved \${${k}} in the dashboard`);
          return pseudo[k] as string;
        });
      return Object.fromEntries(Object.entries(node).map(([k, x]) => [k, render(x)]));
    };
    // Fn::ToJsonString: the body CloudWatch gets is this object as one JSON string.
    return JSON.parse(JSON.stringify(render(dashboard.Properties.DashboardBody["Fn::ToJsonString"])));
  };
  const graphsOf = (b: Json, cluster: string): Json[] =>
    b.widgets.filter((w: Json) => w.type === "metric" && w.properties.title.startsWith(`${cluster}: `));
  const metricNames = (w: Json): string[] => w.properties.metrics.map((m: Json[]) => m[1]);

  it("is one dashboard for the stack, made after the alarms it shows", () => {
    const dashboard = onlyResource(t("single"), "AWS::CloudWatch::Dashboard");
    expect(dashboard.Properties.DashboardName).toEqual({ "Fn::Sub": "${AWS::StackName}" });
    const alarmIds = resourcesOfType(t("single"), "AWS::CloudWatch::Alarm").map((a) => a.id);
    expect([...dashboard.DependsOn].sort()).toEqual(alarmIds.sort());
    expect(t("single").Outputs.DashboardName.Value).toEqual({ Ref: "Dashboard" });
  });

  it("shows the state of every alarm of the stack, by ARN", () => {
    const alarmWidget = body("multi").widgets.find((w: Json) => w.type === "alarm");
    const names = resourcesOfType(t("multi"), "AWS::CloudWatch::Alarm").map((a) =>
      text(a.Properties.AlarmName).replace("${AWS::StackName}", "kube-autosave-test"),
    );
    expect(names).toHaveLength(7);
    expect([...alarmWidget.properties.alarms].sort()).toEqual(
      names.map((n) => `arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${n}`).sort(),
    );
  });

  it("graphs per cluster objects and bytes per snapshot, duration, errors, added/removed/changed and removed %", () => {
    for (const cluster of ["prod-eks", "staging-eks"]) {
      const graphs = graphsOf(body("multi"), cluster);
      expect(graphs.map(metricNames)).toEqual([
        ["Items"],
        ["Bytes"],
        ["DurationSeconds"],
        ["SnapshotErrors", "SnapshotCompleted"],
        ["ObjectsAdded", "ObjectsRemoved", "ObjectsChanged"],
        ["ObjectsRemovedPercent"],
      ]);
      for (const g of graphs) {
        expect(g.properties.region).toBe("eu-west-1");
        for (const m of g.properties.metrics) {
          // The same namespace and dimension set the handler's EMF lines and the alarms use.
          expect(m.slice(0, 1).concat(m.slice(2, 6))).toEqual([
            "KubeAutosave",
            "Cluster",
            cluster,
            "service",
            "kube-autosave",
          ]);
        }
      }
      // The mass-deletion threshold (massDeletionPercent=10 in this variant) is drawn on the removed % graph.
      expect(graphs[5].properties.annotations.horizontal).toEqual([
        { label: "mass-deletion alarm", value: 10, color: "#d62728" },
      ]);
    }
    expect(graphsOf(body("single"), "prod-eks")[5].properties.annotations.horizontal[0].value).toBe(20);
    expect(graphsOf(body("single"), "staging-eks")).toEqual([]);
  });
});

describe("several clusters from one stack", () => {
  const clusters = ["prod-eks", "staging-eks"];

  it("schedules each cluster with its name as input", () => {
    const rules = resourcesOfType(t("multi"), "AWS::Events::Rule");
    expect(rules.map((r) => JSON.parse(r.Properties.Targets[0].Input).cluster).sort()).toEqual(clusters);
    for (const r of rules) expect(r.Properties.ScheduleExpression).toBe("rate(24 hours)");
    const perms = resourcesOfType(t("multi"), "AWS::Lambda::Permission");
    expect(perms.map((p) => p.Properties.SourceArn["Fn::GetAtt"][0]).sort()).toEqual(
      rules.map((r) => r.id).sort(),
    );
  });

  it("creates an access entry and the alarms for each cluster", () => {
    const entries = resourcesOfType(t("multi"), "AWS::EKS::AccessEntry");
    expect(entries.map((e) => e.Properties.ClusterName).sort()).toEqual(clusters);
    expect(
      alarms("multi", "SnapshotCompleted")
        .map((a) => dims(a).Cluster)
        .sort(),
    ).toEqual(clusters);
    expect(
      alarms("multi", "SnapshotErrors")
        .map((a) => dims(a).Cluster)
        .sort(),
    ).toEqual(clusters);
    const mass = alarms("multi", "ObjectsRemovedPercent");
    expect(mass.map((a) => dims(a).Cluster).sort()).toEqual(clusters);
    // --param="massDeletionPercent=10" arrives as a string; CloudFormation reads it as the number.
    for (const a of mass) expect(Number(a.Properties.Threshold)).toBe(10);
    expect(alarms("multi", "Errors")).toHaveLength(1);
    const names = resourcesOfType(t("multi"), "AWS::CloudWatch::Alarm").map((a) =>
      text(a.Properties.AlarmName),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it("allows DescribeCluster on both clusters only, and S3 only under each cluster's prefix", () => {
    const stmts = iamStatements(t("multi"));
    const arns = byAction(stmts, "eks:DescribeCluster")
      .flatMap((s) => s.Resource)
      .map(text);
    expect(arns.sort()).toEqual(clusters.map(EKS_ARN));
    const put = byAction(stmts, "s3:PutObject")
      .flatMap((s) => s.Resource)
      .map(text);
    expect(put.sort()).toEqual(
      clusters.map((c) => `arn:\${AWS::Partition}:s3:::\${SnapshotBucket}/kube-aws/clusters/${c}/backup/*`),
    );
  });
});

describe("sample events for `serverless invoke [local] --path`", () => {
  it("events/scheduled.json is an EventBridge Scheduled Event", async () => {
    const e = JSON.parse(await readFile(`${repoRoot}/events/scheduled.json`, "utf8"));
    expect(Object.keys(e).sort()).toEqual(
      ["account", "detail", "detail-type", "id", "region", "resources", "source", "time", "version"].sort(),
    );
    expect(e).toMatchObject({
      version: "0",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      detail: {},
    });
    expect(e.resources).toEqual([expect.stringMatching(/^arn:aws:events:[a-z0-9-]+:\d{12}:rule\/.+/)]);
    expect(new Date(e.time).toISOString()).toBe(e.time.replace("Z", ".000Z"));
  });

  it("events/manual.json overrides the filters of one on-demand run", async () => {
    const e = JSON.parse(await readFile(`${repoRoot}/events/manual.json`, "utf8"));
    expect(e).toEqual({ includeNamespaces: ["team-a"], excludeResources: ["secrets"] });
  });
});

describe("`serverless invoke local` against the test bed", () => {
  // In this file, after the packaging above: both build in the service's .esbuild/ directory.
  async function invokeLocal(eventPath: string) {
    const cluster = sharedCluster();
    const s3 = sharedS3();
    const bucket = await s3.createBucket("invoke-local");
    const eks = await startEksStandIn({
      [TESTBED_EKS_CLUSTER]: { server: cluster.server, caPem: cluster.caPem },
    });
    const home = await mkdtemp(join(tmpdir(), "kube-autosave-invoke-"));
    try {
      const overrides = {
        BUCKET: bucket,
        S3_ENDPOINT: s3.endpoint,
        EKS_ENDPOINT: eks.endpoint,
        KMS_KEY_ID: "arn:aws:kms:us-east-1:000000000000:key/testbed",
      };
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [
          join(repoRoot, "node_modules/osls/bin/serverless.js"),
          "invoke",
          "local",
          "-f",
          "snapshot",
          "--path",
          eventPath,
          `--param=cluster=${TESTBED_EKS_CLUSTER}`,
          ...Object.entries(overrides).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        ],
        {
          cwd: repoRoot,
          timeout: 120_000,
          maxBuffer: 16 * 1024 * 1024,
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: home,
            AWS_REGION: TESTBED_AWS.region,
            AWS_ACCESS_KEY_ID: TESTBED_AWS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: TESTBED_AWS.secretAccessKey,
            AWS_EC2_METADATA_DISABLED: "true",
            SLS_TELEMETRY_DISABLED: "1",
            SLS_NOTIFICATIONS_MODE: "off",
            SLS_SCHEMA_CACHE_BASE_DIR: join(repoRoot, "node_modules/.cache/kube-autosave-osls"),
            NO_COLOR: "1",
          },
        },
      );
      // invoke local prints the handler's log lines, then its return value as indented JSON.
      const result = JSON.parse(stdout.slice(stdout.lastIndexOf("\n{\n") + 1));
      const client = s3.client();
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      client.destroy();
      return { result, stdout, stderr, keys: (listed.Contents ?? []).map((o) => o.Key ?? "") };
    } finally {
      await eks.close();
    }
  }

  it("runs the bundled handler with the scheduled event and writes a complete snapshot", async () => {
    const { result, stdout, keys } = await invokeLocal("events/scheduled.json");
    expect(result).toMatchObject({
      status: "Completed",
      cluster: TESTBED_EKS_CLUSTER,
      trigger: "schedule",
      errors: 0,
    });
    expect(keys).toContain(
      `kube-aws/clusters/${TESTBED_EKS_CLUSTER}/backup/${result.snapshot}/manifest.json`,
    );
    expect(keys).toContain(`kube-aws/clusters/${TESTBED_EKS_CLUSTER}/backup/latest.json`);
    expect(stdout).toContain('"message":"snapshot summary"');
    expect(stdout).not.toContain("k8s-aws-v1.");
  });

  it("runs the manual event with its filter override", async () => {
    const { result, keys } = await invokeLocal("events/manual.json");
    expect(result).toMatchObject({ status: "Completed", trigger: "manual" });
    // events/manual.json keeps only namespace team-a, which the test bed does not have: cluster-scoped
    // types only, and no namespaces.json (its one selected Namespace does not exist).
    const files = keys
      .filter((k) => k.includes(`/${result.snapshot}/`))
      .map((k) => k.split(`/${result.snapshot}/`)[1]);
    expect(files).toContain("clusterroles.rbac.authorization.k8s.io.json");
    expect(files).toContain("manifest.json");
    expect(files.filter((f) => f?.includes("/"))).toEqual([]);
    expect(files).not.toContain("namespaces.json");
  });
});
