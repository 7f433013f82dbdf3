#!/bin/sh
# The baseline: the "dumper" loop of kube-aws's kube-resources-autosave add-on, what users run today.
#
# Source, reproduced line for line: repository kubernetes-retired/kube-aws (formerly
# kubernetes-incubator/kube-aws), file core/controlplane/config/templates/cloud-config-controller at
# commit 010a74d1f005057bbf59da402b2ddbd0668e3a05, section `{{ if .KubeResourcesAutosave.Enabled }}`:
# /srv/kubernetes/manifests/kube-resources-autosave-de.yaml, container kube-resources-autosave-dumper
# (args of `/bin/sh -c`). Its hard-coded type lists and jq filters are kept as they are.
#
# Changes, and only these:
#   - `--export` dropped: kubectl removed the flag in v1.18 and rejects it;
#   - `/kubectl` -> "$KUBECTL" (the test bed's kubectl v1.36.3); the cluster comes from $KUBECONFIG;
#   - one pass instead of `while true; do ... sleep 24h; done`, and no `aws configure ...` (that served
#     the pusher container, which uploads the finished folder to S3 and is not measured here);
#   - /kube-resources-autosave and the liveness file /probe-token live under the folder given as $1.
#
# Needs: sh, jq (Debian: /usr/bin/jq), $KUBECTL, $KUBECONFIG. Usage: baseline-autosave.sh <dump-root>
# Faithful to the original, a kubectl error (e.g. `podsecuritypolicies`, gone since v1.25) leaves an
# empty file and the loop goes on.
set -x ;
DUMP_ROOT=${1:?usage: baseline-autosave.sh <dump-root>}
: "${KUBECTL:?set KUBECTL to a kubectl binary}" "${KUBECONFIG:?set KUBECONFIG to the cluster's kubeconfig}"
DUMP_DIR_COMPLETE=${DUMP_ROOT}/complete ;
mkdir -p ${DUMP_DIR_COMPLETE} ;
TIMESTAMP=$(date +%Y-%m-%d_%H-%M-%S)
DUMP_DIR=${DUMP_ROOT}/tmp/${TIMESTAMP} ;
mkdir -p ${DUMP_DIR} ;
RESOURCES_OUT_NAMESPACE="namespaces persistentvolumes nodes storageclasses clusterrolebindings clusterroles";
for r in ${RESOURCES_OUT_NAMESPACE};do
  echo " Searching for resources: ${r}" ;
  "${KUBECTL}" get -o=json ${r} | \
  jq '.items |= ([ .[] |
      del(.status,
      .metadata.uid,
      .metadata.selfLink,
      .metadata.resourceVersion,
      .metadata.creationTimestamp,
      .metadata.generation,
      .spec.claimRef
    )])' > ${DUMP_DIR}/${r}.json ;
done ;
RESOURCES_IN_NAMESPACE="componentstatuses configmaps daemonsets deployments endpoints events horizontalpodautoscalers
ingresses jobs limitranges networkpolicies  persistentvolumeclaims pods podsecuritypolicies podtemplates replicasets
replicationcontrollers resourcequotas secrets serviceaccounts services statefulsets customresourcedefinitions
poddisruptionbudgets roles rolebindings";
for ns in $(jq -r '.items[].metadata.name' < ${DUMP_DIR}/namespaces.json);do
  echo "Searching in namespace: ${ns}" ;
  mkdir -p ${DUMP_DIR}/${ns} ;
  for r in ${RESOURCES_IN_NAMESPACE};do
    echo " Searching for resources: ${r}" ;
    "${KUBECTL}" --namespace=${ns} get -o=json ${r} | \
    jq '.items |= ([ .[] |
      select(.type!="kubernetes.io/service-account-token") |
      del(
        .spec.clusterIP,
        .metadata.uid,
        .metadata.selfLink,
        .metadata.resourceVersion,
        .metadata.creationTimestamp,
        .metadata.generation,
        .metadata.annotations."pv.kubernetes.io/bind-completed",
        .status
      )])' > ${DUMP_DIR}/${ns}/${r}.json && touch ${DUMP_ROOT}/probe-token ;
  done ;
done ;
mv ${DUMP_DIR} ${DUMP_DIR_COMPLETE}/${TIMESTAMP} ;
rm -r -f ${DUMP_DIR} ;
