// The stack's CloudWatch dashboard, built when serverless.yml is resolved (`${file(./scripts/dashboard.cjs):body}`):
// a header, the state of every alarm, then per cluster its snapshots' objects, bytes, duration, errors,
// objects added/removed/changed and the removed percentage with the mass-deletion threshold.
//
// Why here and not in CloudFormation: one dashboard holds every cluster, and a dashboard body is one
// JSON string; CloudFormation has no loop that yields parts of a string (Fn::ForEach yields resources or
// object keys, and Fn::Join's delimiter cannot hold the account id an alarm's ARN needs). The clusters are
// the `clusters`/`cluster` param, as for the per-cluster resources (deploys always pass it again). The
// result is an object for Fn::ToJsonString; its Fn::Sub strings fill in the region, account and stack.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings use ${...}.
"use strict";

/** One day: snapshots run daily, so each point of a graph is one day's run (or the day's maximum). */
const PERIOD = 86_400;

/** A graph of one cluster's metrics: `metrics` are [name, label, stat] triples. */
function graph(ns, service, cluster, title, metrics, extra = {}) {
  return {
    type: "metric",
    width: 8,
    height: 6,
    properties: {
      title: `${cluster}: ${title}`,
      region: { "Fn::Sub": "${AWS::Region}" },
      view: "timeSeries",
      stacked: false,
      period: PERIOD,
      metrics: metrics.map(([name, label, stat]) => [
        ns,
        name,
        "Cluster",
        cluster,
        "service",
        service,
        { label, stat },
      ]),
      ...extra,
    },
  };
}

/** The ARN of one of the stack's alarms, by the name serverless.yml gives it. */
function alarmArn(suffix) {
  return {
    "Fn::Sub": `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:\${AWS::StackName}-${suffix}`,
  };
}

/** The clusters param as a list (the same names the Fn::ForEach loops of serverless.yml iterate). */
async function clustersOf(resolveVariable) {
  return String(await resolveVariable("self:custom.clusters"))
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
}

/**
 * The logical ids of the alarms the dashboard shows, for its DependsOn (alarms first, so the widget
 * never names one that does not exist yet). Fn::ForEach names them with the cluster's letters and digits.
 */
module.exports.dependsOn = async ({ resolveVariable }) => {
  const ids = (await clustersOf(resolveVariable)).map((c) => c.replace(/[^0-9A-Za-z]/g, ""));
  return [
    "FunctionErrorsAlarm",
    ...ids.flatMap((id) => [`MissedRunAlarm${id}`, `SnapshotErrorsAlarm${id}`, `MassDeletionAlarm${id}`]),
  ];
};

module.exports.body = async ({ resolveVariable }) => {
  const clusters = await clustersOf(resolveVariable);
  const ns = await resolveVariable("self:custom.metricsNamespace");
  const service = await resolveVariable("self:custom.serviceName");
  const massDeletionPercent = Number(await resolveVariable("param:massDeletionPercent"));
  const alarms = [
    alarmArn("function-errors"),
    ...clusters.flatMap((c) => [
      alarmArn(`missed-run-${c}`),
      alarmArn(`snapshot-errors-${c}`),
      alarmArn(`mass-deletion-${c}`),
    ]),
  ];
  const widgets = [
    {
      type: "text",
      width: 24,
      height: 2,
      properties: {
        markdown: {
          "Fn::Sub": `# kube-autosave \${AWS::StackName}\nDaily snapshots of ${clusters.join(", ")}: one point per day. The alarms notify the stack's SNS topic (output AlarmTopicArn).`,
        },
      },
    },
    {
      type: "alarm",
      width: 24,
      height: Math.max(2, Math.ceil(alarms.length / 4) + 1),
      properties: { title: "Alarms", alarms },
    },
    ...clusters.flatMap((c) => [
      graph(ns, service, c, "objects per snapshot", [["Items", "objects", "Maximum"]]),
      graph(ns, service, c, "bytes per snapshot", [["Bytes", "bytes", "Maximum"]]),
      graph(ns, service, c, "duration (seconds)", [["DurationSeconds", "seconds", "Maximum"]]),
      graph(ns, service, c, "errors (failed runs, types not listed)", [
        ["SnapshotErrors", "errors", "Sum"],
        ["SnapshotCompleted", "completed snapshots", "Sum"],
      ]),
      graph(ns, service, c, "objects added / removed / changed since the snapshot before", [
        ["ObjectsAdded", "added", "Sum"],
        ["ObjectsRemoved", "removed", "Sum"],
        ["ObjectsChanged", "changed", "Sum"],
      ]),
      graph(
        ns,
        service,
        c,
        "removed, % of the snapshot before",
        [["ObjectsRemovedPercent", "removed %", "Maximum"]],
        {
          annotations: {
            horizontal: [{ label: "mass-deletion alarm", value: massDeletionPercent, color: "#d62728" }],
          },
        },
      ),
    ]),
  ];
  return { start: "-P30D", periodOverride: "inherit", widgets };
};
