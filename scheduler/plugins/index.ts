/** The default plugin set, in kube-scheduler's filter order (cheap, decisive checks first). */
import type { FilterPlugin, ScorePlugin } from '../framework.js';
import { InterPodAffinity, InterPodAffinityScore } from './interpodaffinity.js';
import { NodeAffinity, NodeAffinityScore } from './nodeaffinity.js';
import { NodeName } from './nodename.js';
import { NodePorts } from './nodeports.js';
import { NodeReady } from './nodeready.js';
import { NodeResourcesFit, NodeResourcesLeastAllocated } from './noderesources.js';
import { NodeUnschedulable } from './nodeunschedulable.js';
import { PodTopologySpread, PodTopologySpreadScore } from './podtopologyspread.js';
import { SelectorSpread } from './spread.js';
import { TaintToleration, TaintTolerationScore } from './tainttoleration.js';

export const DEFAULT_FILTERS: readonly FilterPlugin[] = [
  NodeReady,
  NodeUnschedulable,
  NodeName,
  TaintToleration,
  NodeAffinity,
  NodePorts,
  NodeResourcesFit,
  PodTopologySpread,
  InterPodAffinity,
];

export const DEFAULT_SCORES: readonly ScorePlugin[] = [
  NodeResourcesLeastAllocated,
  SelectorSpread,
  NodeAffinityScore,
  TaintTolerationScore,
  PodTopologySpreadScore,
  InterPodAffinityScore,
];
