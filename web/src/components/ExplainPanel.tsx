import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { encodeNpy } from '../../../src/io/npy.js';
import { api, ApiError, jobId, type OutputKindName, type MaskEntry, type ExplainMapInfo, type ImageEntry, type ExplainRequest, type ExplainResult, type Model, type Prediction, type SanityResult, type SanityScores, type SkippedMethod, type Summary } from '../api';
import { inputKind } from '../input-kind';
import { curveScoreLabel, outputNouns, scoreOptions } from '../output-words';
import { cancelPanelJob, followJobStatus, runInBrowser, type JobStatus } from '../job-status';
import { useOneAtATime } from '../one-at-a-time';
import type { InputView } from '../App';
import type { ColormapName } from '../colormaps';
import { fitCanvas, imageDataCanvas, mapToImageData, type Mapping } from '../render';
import { fmtSig } from '../format';
import { decodeTensor, fmt, maxAbs, minMax, quantile, workerTensor, type Tensor } from '../tensor';
import { displayStyle } from '../../../src/methods/explain/display.js';
import { DEFAULT_NOISE_LEVEL, DEFAULT_NOISE_SAMPLES, DEFAULT_PATH_STEPS } from '../../../src/methods/explain/method-defaults.js';
import { REPORT_MAX_SEGMENT_SAMPLES, REPORT_SANITY_DEFAULT_LAYERS, REPORT_SANITY_MAX_LAYERS, REPORT_SENSITIVITY_DEFAULT_SAMPLES, REPORT_SENSITIVITY_MAX_SAMPLES } from '../../../src/methods/explain/request-limits.js';
import { abbreviateName } from '../../../src/util/names.js';
import { describeRange, rangeOf } from '../../../src/render/range.js';
import type { MethodName } from '../../../src/methods/explain/types.js';
import { ClassPicker, findLayer, LayerPicker, layerLabelOf } from './Pickers';
import { explainInBrowser } from '../compute';
import { CurveChart, type CurveSeries } from './Curves';
import { ChannelsPanel } from './ChannelsPanel';
import { ConceptsPanel } from './ConceptsPanel';
import { DataFolderMaskPicker } from './DataFolderMaskPicker';
import { JobProgress } from './JobProgress';
import { drawInput, fitSize } from './PredictionPanel';
import { Colorbar, ComputeWherePicker, ErrorBox, NumberField, Panel, Segmented, Spinner, UploadButton, type ComputeWhere, type ShownError } from './ui';


const GROUPS: { title: string; methods: [string, string, string][] }[] = [
  {
    title: 'Gradients',
    methods: [
      ['gradient', 'Gradient', 'd score / d input, summed over channels (signed)'],
      ['saliency', 'Saliency', '|gradient|, max over channels (Simonyan et al.)'],
      ['input-x-gradient', 'Input × gradient', 'input times gradient (signed)'],
      ['smoothgrad', 'SmoothGrad', 'gradient averaged over noisy copies'],
      ['smoothgrad-sq', 'SmoothGrad²', 'squared gradient averaged over noisy copies'],
      ['vargrad', 'VarGrad', 'variance of the gradient over noisy copies (Adebayo et al.)'],
      ['integrated-gradients', 'Integrated gradients', 'gradients along a path from a baseline'],
      ['guided-backprop', 'Guided backprop', 'backward pass that keeps only positive signals'],
      ['deconvnet', 'Deconvnet', 'Zeiler & Fergus backward rule'],
    ],
  },
  {
    title: 'Reference-based and relevance',
    methods: [
      ['deeplift', 'DeepLIFT', 'rescale rule: score difference from a baseline, split through the nonlinearities'],
      ['deeplift-shap', 'DeepLiftShap', 'DeepLIFT averaged over a set of baselines'],
      ['gradient-shap', 'GradientSHAP', 'expected gradients between random baselines and the image'],
      ['lrp', 'LRP', 'layer-wise relevance propagation with a composite of rules'],
    ],
  },
  {
    title: 'Class activation maps',
    methods: [
      ['cam', 'CAM', 'feature maps weighted by the classifier (GAP + dense models)'],
      ['gradcam', 'Grad-CAM', 'feature maps weighted by their mean gradient'],
      ['gradcam++', 'Grad-CAM++', 'Grad-CAM with higher-order weights'],
      ['scorecam', 'Score-CAM', 'feature maps weighted by the score of masked inputs (slow)'],
      ['layercam', 'LayerCAM', 'feature maps weighted by positive gradients, per unit'],
      ['xgradcam', 'XGrad-CAM', 'feature maps weighted by sum(gradient × activation) / sum(activation)'],
      ['hirescam', 'HiResCAM', 'gradient × activation per unit, summed over channels'],
      ['eigencam', 'EigenCAM', 'first principal component of the feature maps'],
      ['eigengradcam', 'EigenGradCAM', 'first principal component of gradient × activation'],
      ['ablationcam', 'Ablation-CAM', 'feature maps weighted by the score drop when each is removed (slow)'],
      ['fullgrad', 'FullGrad', 'input and bias gradients of every layer, each normalized'],
      ['guided-gradcam', 'Guided Grad-CAM', 'guided backprop times Grad-CAM'],
    ],
  },
  {
    title: 'Perturbation',
    methods: [
      ['occlusion', 'Occlusion', 'score drop when a window is covered (slow)'],
      ['feature-ablation', 'Feature ablation', 'score drop when each superpixel is replaced by the baseline'],
      ['kernel-shap', 'KernelSHAP', 'Shapley values of the superpixels from sampled coalitions (slow)'],
      ['lime', 'LIME', 'linear surrogate over random coalitions of superpixels (slow)'],
    ],
  },
];
export const METHOD_LABEL: Record<string, string> = Object.fromEntries(GROUPS.flatMap((g) => g.methods.map(([id, label]) => [id, label])));
const CAM_METHODS = new Set(['cam', 'gradcam', 'gradcam++', 'scorecam', 'layercam', 'guided-gradcam', 'xgradcam', 'hirescam', 'eigencam', 'eigengradcam', 'ablationcam']);
/** pytorch-grad-cam's family: its aug and eigen smoothing apply */
const SMOOTHABLE = new Set(['gradcam', 'gradcam++', 'scorecam', 'layercam', 'xgradcam', 'hirescam', 'eigencam', 'eigengradcam', 'ablationcam', 'fullgrad']);

// Tableau 10: one colour per method, the same on cards and curves.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const ALL_METHODS = GROUPS.flatMap((g) => g.methods.map(([id]) => id));
const colorOf = (m: string): string => PALETTE[Math.max(0, ALL_METHODS.indexOf(m)) % PALETTE.length]!;

type RangeMode = 'auto' | 'minmax' | 'p99' | 'symmetric';
type SeqCmap = 'auto' | Extract<ColormapName, 'inferno' | 'viridis'>;

type Where = ComputeWhere;

interface Shown {
  target: ExplainResult['target'];
  /** the hidden unit explained (its channels' values are shown, not probabilities) */
  unit?: ExplainResult['unit'] | undefined;
  predicted?: ExplainResult['predicted'] | undefined;
  metrics: ExplainResult['metrics'];
  /** methods the model ruled out or that failed, with the reason */
  skipped: SkippedMethod[];
  /** the model that made the maps (the page may have moved on to another) */
  modelName: string;
  modelId: string;
  /** t: the map at input resolution; raw: the method's raw result (the CLI's --npy) */
  maps: { map: ExplainMapInfo; t: Tensor; raw: Tensor | null }[];
  /** the model's view of the image, if the page had it when the run started (else the page's, once it has it: shownInput) */
  input: InputView | null;
  imageId: string;
  imageName: string;
  score: string;
  /** how the model's outputs read when it ran (a regression's are values: no class, no probability) */
  outputKind?: OutputKindName | undefined;
  where: Where;
  predictionPass?: { kind: string; ms: number } | undefined;
  /** the model-randomization check, when it ran: each step's maps and scores */
  sanity?: SanityResult<Tensor> | undefined;
  sensitivity?: ExplainResult['sensitivity'] | undefined;
  /** the segments mask the request named (the maps' params name it too, from servers that say) */
  maskName?: string | undefined;
}

/** A sanity result with its maps turned into the page's tensors. */
function sanityOf<T>(r: SanityResult<T> | undefined, tensor: (t: T) => Tensor): SanityResult<Tensor> | undefined {
  return r && { ...r, steps: r.steps.map((st) => ({ ...st, maps: Object.fromEntries(Object.entries(st.maps).map(([m, t]) => [m, tensor(t)])) })) };
}

/** Ops whose constant weights the sanity check randomizes (methods/metrics/sanity.ts). */
const WEIGHTED_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);


/** "Explain this channel" from the Network tab: the Explain tab fills in the unit (a new `seq` each time). */
export interface UnitRequest {
  modelId: string;
  /** the layer as the pickers name it */
  layer: string;
  channel: number;
  at?: [number, number];
  seq: number;
}

type Subject = 'class' | 'unit';

/** Row and column fields: both or neither (the channel's mean); an error message otherwise. */
function unitPosition(row: string, col: string): [number, number] | undefined | string {
  if (row.trim() === '' && col.trim() === '') return undefined;
  const r = Number(row);
  const c = Number(col);
  if (row.trim() === '' || col.trim() === '' || !Number.isInteger(r) || !Number.isInteger(c) || r < 0 || c < 0) return 'Give both a row and a column (whole numbers from 0) for one unit, or leave both empty for the channel\'s mean.';
  return [r, c];
}

/**
 * The range a map is drawn with. 'auto' is the method's own default, the CLI's (methods/explain/display.ts:
 * CAMs min-max, pixel maps clipped at the 98th percentile of |value| as Captum's outlier_perc=2,
 * signed maps symmetric around zero).
 */
function mappingOf(values: Float32Array, signed: boolean, mode: RangeMode, method: string): Mapping & { note?: string } {
  if (mode === 'auto') {
    const spec = displayStyle(method as MethodName, signed).range;
    const { min, max } = rangeOf(values, spec);
    return { lo: min, hi: max, ...(signed ? { mid: 0 } : {}), note: describeRange(spec) };
  }
  if (signed) {
    if (mode === 'minmax') {
      const r = minMax(values);
      return { lo: Math.min(r.lo, 0), hi: Math.max(r.hi, 0), mid: 0 };
    }
    const m = mode === 'p99' ? quantile(values, 0.99, true) : maxAbs(values);
    return { lo: -m, hi: m, mid: 0 };
  }
  if (mode === 'minmax') return minMax(values);
  if (mode === 'p99') return { lo: minMax(values).lo, hi: quantile(values, 0.99) };
  return { lo: 0, hi: maxAbs(values) };
}

/** The layer CAM-type methods read by default: the profile's map, or a vision transformer's tokens its last attention reads. */
function camLayerOf(model: Model): string {
  return model.defaultLayer ?? model.profile?.camTokens?.layer ?? '';
}

export function ExplainPanel(props: { model: Model | undefined; summary: Summary | null; images?: readonly ImageEntry[]; imageId: string | null; input: InputView | null; prediction: Prediction | null; onJob: (j: JobStatus | null) => void; unitRequest?: UnitRequest | null }): ReactNode {
  const { model, summary, input } = props;
  const [methods, setMethods] = useState<Set<string>>(() => new Set(['gradcam', 'saliency']));
  const [layer, setLayer] = useState<string>('');
  const [target, setTarget] = useState<string>('');
  const [subject, setSubject] = useState<Subject>('class');
  const [unitLayer, setUnitLayer] = useState('');
  const [unitRow, setUnitRow] = useState('');
  const [unitCol, setUnitCol] = useState('');
  const [score, setScore] = useState<'logit' | 'prob'>('logit');
  const [metrics, setMetrics] = useState(true);
  const [sanity, setSanity] = useState(false);
  const [sanityLayers, setSanityLayers] = useState(REPORT_SANITY_DEFAULT_LAYERS);
  const [sensitivity, setSensitivity] = useState(false);
  const [sensitivitySamples, setSensitivitySamples] = useState(REPORT_SENSITIVITY_DEFAULT_SAMPLES);
  const side = input ? Math.min(input.width, input.height) : 28;
  const [occ, setOcc] = useState<{ window: number; stride: number; fill: string } | null>(null);
  // the library's defaults (the CLI's): untouched, the maps are the CLI's
  const [sg, setSg] = useState({ samples: DEFAULT_NOISE_SAMPLES, noise: DEFAULT_NOISE_LEVEL });
  const [ig, setIg] = useState({ steps: DEFAULT_PATH_STEPS, baseline: 'black', rule: 'gausslegendre' });
  const [saliencyReduce, setSaliencyReduce] = useState<'max' | 'sum'>('max');
  const [ggcInterpolate, setGgcInterpolate] = useState<'bilinear' | 'nearest'>('bilinear');
  const [dlBaseline, setDlBaseline] = useState('black');
  const [shap, setShap] = useState({ samples: 50, count: 8 });
  const [lrp, setLrp] = useState({ composite: 'epsilon-gamma-box', gamma: 0.25 });
  const [camSmooth, setCamSmooth] = useState({ augSmooth: false, eigenSmooth: false });
  const [seg, setSeg] = useState({ segmentation: 'slic', count: 50, samples: 256, baseline: 'zero' });
  const segmentMethods = methods.has('feature-ablation') || methods.has('kernel-shap') || methods.has('lime');
  // segmentation 'mask': the segments are the colours of a PNG the user uploads
  const [segMask, setSegMask] = useState<MaskEntry | null>(null);
  const [maskUpload, setMaskUpload] = useState<{ busy: boolean; error: ShownError | null }>({ busy: false, error: null });
  // uploaded, or a PNG in the data folders (read by the server)
  const loadMask = async (load: () => Promise<MaskEntry>): Promise<void> => {
    setMaskUpload({ busy: true, error: null });
    try {
      setSegMask(await load());
      setMaskUpload({ busy: false, error: null });
    } catch (e) {
      setMaskUpload({ busy: false, error: e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e)) });
    }
  };
  const shapMethods = methods.has('gradient-shap') || methods.has('deeplift-shap');
  const smoothable = [...methods].some((m) => SMOOTHABLE.has(m));
  const noisy = methods.has('smoothgrad') || methods.has('smoothgrad-sq') || methods.has('vargrad');
  const occlusion = occ ?? { window: Math.max(2, Math.round(side / 7)), stride: Math.max(1, Math.ceil(Math.max(2, Math.round(side / 7)) / 2)), fill: 'zero' };

  const [job, setJob] = useState<JobStatus | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [error, setError] = useState<ShownError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  // the model's view of the explained image: the run's own, or the page's once it has this image's (a run started before it came)
  const shownInput = shown?.input ?? (shown && input?.imageId === shown.imageId && model?.id === shown.modelId ? input : null);
  // null: each method's own default (0.5 for CAMs, 0.7 for pixel maps); moving the slider sets one for all
  const [opacity, setOpacity] = useState<number | null>(null);
  const [range, setRange] = useState<RangeMode>('auto');
  const [seq, setSeq] = useState<SeqCmap>('auto');
  const stopRef = useRef<(() => void) | null>(null);
  const [where, setWhere] = useState<Where>('server');
  const browserRun = useRef<AbortController | null>(null);

  const unavailable = model?.unavailableMethods ?? {};
  useEffect(() => {
    setLayer(model ? camLayerOf(model) : '');
    setTarget('');
    setSubject('class');
    setUnitLayer('');
    setUnitRow('');
    setUnitCol('');
    // methods this model rules out are unticked (they stay visible, disabled, with the reason)
    setMethods((s) => {
      const n = new Set([...s].filter((m) => !model?.unavailableMethods?.[m]));
      return n.size === s.size ? s : n;
    });
  }, [model]);
  useEffect(
    () => () => {
      stopRef.current?.();
      browserRun.current?.abort();
    },
    [],
  );
  // Each "Explain this channel" of the Network tab fills the unit in, once (a later model change resets it)
  const unitRequest = props.unitRequest;
  useEffect(() => {
    if (!unitRequest || unitRequest.modelId !== model?.id) return;
    setSubject('unit');
    setUnitLayer(unitRequest.layer);
    setUnitRow(unitRequest.at ? String(unitRequest.at[0]) : '');
    setUnitCol(unitRequest.at ? String(unitRequest.at[1]) : '');
    setTarget(String(unitRequest.channel));
    setLayer('');
    setScore('logit');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [unitRequest?.seq]);
  const onJob = props.onJob;
  useEffect(() => onJob(job), [job, onJob]);
  const formRef = useRef<HTMLDivElement>(null);
  // from the channel ranking: the form turns to that channel as a hidden unit, ready to run
  const explainChannel = (channelLayer: string, channel: number): void => {
    setSubject('unit');
    setUnitLayer(channelLayer);
    setUnitRow('');
    setUnitCol('');
    setTarget(String(channel));
    setLayer('');
    setScore('logit');
    formRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  };

  const toggle = (m: string): void =>
    setMethods((s) => {
      const n = new Set(s);
      if (n.has(m)) n.delete(m);
      else n.add(m);
      return n;
    });

  const running = !!job?.running;
  const noImages = model ? inputKind(model).noImages : undefined;
  const canRun = !!model && !!props.imageId && !noImages && methods.size > 0 && !running;
  const predicted = props.prediction?.top[0];
  // the unit layer's channels as the server labels them ("fires.5:7@6,6"), to pick one by
  const unitSpec = subject === 'unit' ? findLayer(summary, unitLayer) : undefined;
  const unitShape = unitSpec && typeof unitSpec.shape[2] === 'number' && typeof unitSpec.shape[3] === 'number' ? [unitSpec.shape[2], unitSpec.shape[3]] as const : undefined;
  const unitChannels = typeof unitSpec?.shape[1] === 'number' ? unitSpec.shape[1] : 0;
  const unitAt = unitPosition(unitRow, unitCol);
  const unitLabels = useMemo(() => Array.from({ length: unitChannels }, (_, k) => `${unitLayer.trim()}:${k}${Array.isArray(unitAt) ? `@${unitAt.join(',')}` : ''}`), [unitChannels, unitLayer, unitAt?.toString()]);

  const oneAtATime = useOneAtATime();
  const run = async (): Promise<void> => {
    if (model && props.imageId) await oneAtATime(() => start(model, props.imageId!));
  };

  const start = async (model: Model, imageId: string): Promise<void> => {
    setError(null);
    setNotice(null);
    const chosen = ALL_METHODS.filter((m) => methods.has(m));
    const params: ExplainRequest['params'] = {};
    if (methods.has('occlusion')) params['occlusion'] = { ...occlusion };
    if (noisy) params['smoothgrad'] = { ...sg };
    if (methods.has('saliency')) params['saliency'] = { reduce: saliencyReduce };
    if (methods.has('guided-gradcam')) params['guided-gradcam'] = { interpolate: ggcInterpolate };
    if (methods.has('integrated-gradients')) params['integrated-gradients'] = { ...ig };
    if (methods.has('deeplift')) params['deeplift'] = { baseline: dlBaseline };
    if (shapMethods) params['shap'] = { ...shap };
    if (methods.has('lrp')) params['lrp'] = { ...lrp };
    if (segmentMethods) {
      if (seg.segmentation === 'mask') {
        if (!segMask) {
          setError({ code: 'INVALID_ARGUMENT', message: 'No segments mask chosen yet.', hint: 'Upload a PNG whose flat colours are the segments (drawn on this image, any scale) or pick one from the data folders, or choose SLIC superpixels or a grid.' });
          return;
        }
        if (where === 'browser') {
          setError({ code: 'INVALID_ARGUMENT', message: 'A segments mask is applied on the server.', hint: 'Compute on the server, or choose SLIC superpixels or a grid to compute in the browser.' });
          return;
        }
        params['segments'] = { samples: seg.samples, baseline: seg.baseline, mask: segMask.id };
      } else params['segments'] = { ...seg };
    }
    if (smoothable && (camSmooth.augSmooth || camSmooth.eigenSmooth)) params['cam'] = { ...camSmooth };
    const at = subject === 'unit' ? unitPosition(unitRow, unitCol) : undefined;
    if (typeof at === 'string') {
      setError({ code: 'INVALID_ARGUMENT', message: at });
      return;
    }
    if (subject === 'unit' && !unitLayer.trim()) {
      setError({ code: 'INVALID_ARGUMENT', message: 'Pick the layer whose channel to explain.', hint: 'A conv, activation or pooling layer inside the network; the Inside the network tab has "Explain this channel" too.' });
      return;
    }
    const req: ExplainRequest = {
      model: model.id,
      image: imageId,
      methods: chosen,
      ...(layer ? { layer } : {}),
      ...(target !== '' ? { target: /^\d+$/.test(target) ? Number(target) : target } : {}),
      // a unit is explained by its own value: a softmax over a layer's channels means nothing
      // a regression has no probability: its outputs are explained by their values
      score: subject === 'unit' || model.outputKind === 'regression' ? 'logit' : score,
      params,
      metrics,
      ...(subject === 'unit' ? { unit: { layer: unitLayer.trim(), ...(at ? { at } : {}) } } : {}),
      ...(sanity ? { sanity: { layers: sanityLayers } } : {}),
      ...(sensitivity ? { sensitivity: { samples: sensitivitySamples } } : {}),
    };
    // an upload's id is a uuid: the gallery knows the file name it came with
    const fileName = props.images?.find((i) => i.id === imageId)?.name ?? imageId.replace(/^.*\//, '');
    // The page has no view of a just-picked image until its prediction arrives: a run started
    // meanwhile keeps none and shows the page's once it comes (shownInput).
    const snapshot = { input, imageId, imageName: fileName.replace(/\.\w+$/, ''), score: req.score, outputKind: model.outputKind, where, modelId: model.id, modelName: model.name, maskName: segmentMethods && seg.segmentation === 'mask' ? segMask?.name : undefined };
    if (where === 'browser') {
      await runHere(req, snapshot);
      return;
    }
    let id: string;
    try {
      id = jobId(await api.explain(req));
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, 'CLIENT', String(e));
      if (err.status === 404 && err.code === 'NOT_FOUND') err.hint = 'This studio server has no POST /api/explain yet: update ConvLens.';
      setError(err);
      return;
    }
    followJobStatus(id, stopRef, setJob, setCancelling, {
      result: (r) => {
        const result = r as ExplainResult;
        setShown({ target: result.target, unit: result.unit, predicted: result.predicted, metrics: result.metrics, skipped: result.skipped ?? [], maps: result.maps.map((m) => ({ map: m, t: decodeTensor(m.values), raw: m.raw ? decodeTensor(m.raw) : null })), predictionPass: result.predictionPass, sanity: sanityOf(result.sanity, decodeTensor), sensitivity: result.sensitivity, ...snapshot });
      },
      error: setError,
      cancelled: () => setNotice('Cancelled: the job stopped; results of the previous run (if any) are still shown.'),
    });
  };

  // The same computation as the server's job, on the browser's own engine (the engine worker): the
  // model and the preprocessed input come from the server, the gradients are computed here.
  const runHere = (req: ExplainRequest, snapshot: Pick<Shown, 'input' | 'imageId' | 'imageName' | 'score' | 'where' | 'modelId' | 'modelName'>): Promise<void> =>
    runInBrowser(
      browserRun,
      { setJob, setCancelling, setNotice, setError },
      (o) => explainInBrowser(req.model, req.image, req, o),
      (report) =>
        setShown({ target: report.target, unit: report.unit, predicted: report.predicted as ExplainResult['predicted'], metrics: report.metrics, skipped: report.skipped ?? [], maps: report.maps.map((r) => ({ map: { method: r.method, signed: r.signed, ms: r.ms }, t: workerTensor(r.values), raw: workerTensor(r.raw) })), predictionPass: report.predictionPass, sanity: sanityOf(report.sanity, workerTensor), sensitivity: report.sensitivity, ...snapshot }),
      'Cancelled: results of the previous run (if any) are still shown.',
    );

  const cancel = (): void => cancelPanelJob(job, browserRun, { setCancelling, setError });

  if (!model) return <Panel title="Explanations">Choose a model that the engine can run.</Panel>;

  const series = (kind: 'deletion' | 'insertion'): CurveSeries[] =>
    shown?.metrics
      ? Object.entries(shown.metrics).flatMap(([m, c]) => {
          const curve = c[kind];
          return curve ? [{ label: METHOD_LABEL[m] ?? m, color: colorOf(m), curve }] : [];
        })
      : [];
  const deletion = series('deletion');
  const insertion = series('insertion');
  // layers with weights the summary shows (a unit's cut model has fewer: the server says so)
  const weighted = summary?.rows.filter((r) => WEIGHTED_OPS.has(r.type.split('+')[0]!) && r.params > 0).length ?? 0;
  const maxSanityLayers = weighted > 0 ? Math.min(REPORT_SANITY_MAX_LAYERS, weighted) : REPORT_SANITY_MAX_LAYERS;
  const nouns = outputNouns(model.outputKind);

  return (
    <div className="stack" ref={formRef}>
      <Panel title="Explanations" subtitle={`Which input pixels does ${subject === 'unit' ? 'a unit inside the network' : model.outputKind === 'regression' ? 'the value of an output' : 'the score of a class'} depend on? Pick methods, run them, compare.`} testId="explain-form">
        <div className="explain-form">
          <fieldset className="methods">
            {GROUPS.map((g) => (
              <div key={g.title} className="method-group">
                <legend>{g.title}</legend>
                {g.methods.map(([id, label, about]) => {
                  const why = unavailable[id];
                  return (
                    <label key={id} className={`check${why ? ' unavailable' : ''}`} title={why ? `${label} does not apply to ${model.name}: ${why.reason}${why.hint ? ` ${why.hint}` : ''}` : about}>
                      <input type="checkbox" checked={methods.has(id)} disabled={!!why} onChange={() => toggle(id)} data-testid={`method-${id}`} />
                      <span className="swatch" style={{ background: colorOf(id) }} />
                      {label}
                      {why && <span className="muted small"> (not for this model)</span>}
                    </label>
                  );
                })}
              </div>
            ))}
          </fieldset>
          {Object.keys(unavailable).length > 0 && (
            <ul className="unavailable-methods muted small" data-testid="unavailable-methods">
              {Object.entries(unavailable).map(([id, why]) => (
                <li key={id} data-testid={`unavailable-${id}`}>
                  <b>{METHOD_LABEL[id] ?? id}</b> does not apply to {model.name}: {why.reason} {why.hint ?? ''}
                </li>
              ))}
            </ul>
          )}
          <div className="explain-options">
            <Segmented
              label="Explain"
              value={subject}
              onChange={(v) => {
                setSubject(v);
                // a class name means nothing as a channel, and the other way round
                setTarget('');
                // the profile's CAM layer may lie past the cut: a unit's CAMs default to the unit's own layer
                setLayer(v === 'unit' ? '' : camLayerOf(model));
              }}
              options={[
                model.outputKind === 'regression' ? { value: 'class', label: 'output', title: "the value of one of the model's outputs" } : { value: 'class', label: 'class', title: 'the score of an output class' },
                { value: 'unit', label: 'hidden unit', title: 'a channel of a layer inside the network: its mean over the map, or its value at one row and column (Captum\'s Neuron* attributions)' },
              ]}
              testId="explain-subject"
            />
            {subject === 'unit' ? (
              <>
                <LayerPicker label="Unit layer" stacked model={model} summary={summary} value={unitLayer} onChange={setUnitLayer} testId="explain-unit-layer" width={200} />
                <ClassPicker label="Channel" labels={unitLabels} value={target} onChange={setTarget} emptyLabel="most active" testId="explain-target" width={170} />
                <label className="field" title="one unit: its row and column in the layer's map (from 0); empty: the channel's mean over the map">
                  <span>Row, col{unitShape ? ` (${unitShape[0]}×${unitShape[1]})` : ''} · or mean</span>
                  <span className="unit-at">
                    <input type="number" min={0} max={unitShape ? unitShape[0] - 1 : undefined} value={unitRow} placeholder="row" onChange={(e) => setUnitRow(e.target.value)} data-testid="explain-unit-row" style={{ width: 72 }} />
                    <input type="number" min={0} max={unitShape ? unitShape[1] - 1 : undefined} value={unitCol} placeholder="col" onChange={(e) => setUnitCol(e.target.value)} data-testid="explain-unit-col" style={{ width: 72 }} />
                  </span>
                </label>
              </>
            ) : (
              <ClassPicker label={`Target ${nouns.one}`} labels={model.labels} value={target} onChange={setTarget} emptyLabel={`predicted${predicted ? ` (${predicted.label})` : ''}`} testId="explain-target" width={220} />
            )}
            <LayerPicker label="Layer (CAM methods)" stacked tokens model={model} summary={summary} value={layerLabelOf(summary, layer)} onChange={setLayer} disabled={![...methods].some((m) => CAM_METHODS.has(m))} testId="explain-layer" width={220} {...(subject === 'unit' ? { placeholder: "the unit's layer (or one before it)" } : {})} />
            {subject === 'class' && model.outputKind === 'regression' ? (
              <span className="muted small" title="a regression's outputs are values, with no probability" data-testid="explain-score-value">
                score: the output&apos;s value
              </span>
            ) : subject === 'class' ? (
              <Segmented label="Score" value={score} onChange={setScore} options={scoreOptions(model.outputKind)} />
            ) : (
              <span className="muted small" title="a softmax over a layer's channels means nothing">score: the unit's value</span>
            )}
            <label className="check">
              <input type="checkbox" checked={metrics} onChange={(e) => setMetrics(e.target.checked)} data-testid="explain-metrics" />
              deletion / insertion curves, ROAD, infidelity
            </label>
            <span className="check-with-field">
              <label className="check" title="model-randomization sanity check (Adebayo et al. 2018): the weights of the last layers are re-drawn at random, one more layer per step from the output, and every map is recomputed after each step; a map that explains the model should change">
                <input type="checkbox" checked={sanity} onChange={(e) => setSanity(e.target.checked)} data-testid="explain-sanity" />
                sanity check (model randomization)
              </label>
              {sanity && (
                <NumberField label="layers from the output" value={Math.min(sanityLayers, maxSanityLayers)} min={1} max={maxSanityLayers} onChange={setSanityLayers} width={56} testId="sanity-layers" title={`layers with weights to randomize, counted from the output (1 to ${maxSanityLayers}${weighted ? `; the model has ${weighted}` : ''}): each one recomputes every map, so this multiplies the time of the explanation`} />
              )}
            </span>
            <span className="check-with-field">
              <label className="check" title="max-sensitivity (Yeh et al. 2019): each map recomputed on copies of the input perturbed by at most 0.02, the largest relative change kept; lower is more stable">
                <input type="checkbox" checked={sensitivity} onChange={(e) => setSensitivity(e.target.checked)} data-testid="explain-sensitivity" />
                max-sensitivity
              </label>
              {sensitivity && <NumberField label="copies" value={sensitivitySamples} min={1} max={REPORT_SENSITIVITY_MAX_SAMPLES} onChange={setSensitivitySamples} width={56} testId="sensitivity-samples" title="perturbed copies of the input; each recomputes every map" />}
            </span>
          </div>
          {(methods.has('occlusion') || noisy || methods.has('integrated-gradients') || methods.has('saliency') || methods.has('guided-gradcam') || methods.has('deeplift') || shapMethods || methods.has('lrp') || smoothable || segmentMethods) && (
            <div className="explain-params">
              {segmentMethods && (
                <fieldset className="params">
                  <legend>Feature ablation · KernelSHAP · LIME</legend>
                  <label className="field inline">
                    <span>segments</span>
                    <select value={seg.segmentation} onChange={(e) => setSeg({ ...seg, segmentation: e.target.value })} data-testid="segmentation">
                      <option value="slic">SLIC superpixels</option>
                      <option value="grid">grid</option>
                      <option value="mask">my mask (PNG)</option>
                    </select>
                  </label>
                  {seg.segmentation === 'mask' ? (
                    <span className="segments-mask">
                      <UploadButton label={segMask ? 'Replace mask…' : 'Upload mask PNG…'} busyLabel="checking" busy={maskUpload.busy} accept="image/png" onFile={(f) => void loadMask(() => api.uploadMask(f))} testId="segments-mask-upload" inputTestId="segments-mask-file" />
                      <DataFolderMaskPicker onPick={(path) => void loadMask(() => api.maskFromDataFolder(path))} disabled={maskUpload.busy} />
                      {segMask && (
                        <span className="muted small" style={{ marginLeft: 8 }} data-testid="segments-mask-info" title="each distinct colour of the mask is one segment">
                          {segMask.name}: {segMask.segments} segment{segMask.segments === 1 ? '' : 's'}, {segMask.width}×{segMask.height}
                        </span>
                      )}
                    </span>
                  ) : (
                    <NumberField label="count" value={seg.count} min={1} max={512} onChange={(v) => setSeg({ ...seg, count: v })} testId="segment-count" title="segments aimed at (SLIC gives about this many)" />
                  )}
                  {(methods.has('kernel-shap') || methods.has('lime')) && <NumberField label="samples" value={seg.samples} min={1} max={REPORT_MAX_SEGMENT_SAMPLES} onChange={(v) => setSeg({ ...seg, samples: v })} testId="segment-samples" title="coalitions scored per image (one forward pass each)" />}
                  <label className="field inline">
                    <span>baseline</span>
                    <select value={seg.baseline} onChange={(e) => setSeg({ ...seg, baseline: e.target.value })}>
                      <option value="zero">zeros (model space)</option>
                      <option value="black">black image</option>
                      <option value="mean">image mean</option>
                      <option value="blurred">blurred image</option>
                    </select>
                  </label>
                  {seg.segmentation === 'mask' && maskUpload.error && <ErrorBox error={maskUpload.error} title="Mask refused" onClose={() => setMaskUpload({ busy: false, error: null })} testId="segments-mask-error" />}
                  {seg.segmentation === 'mask' && segMask && <MaskOverlay input={props.input} mask={segMask} />}
                </fieldset>
              )}
              {methods.has('occlusion') && (
                <fieldset className="params">
                  <legend>Occlusion</legend>
                  <NumberField label="window" value={occlusion.window} min={1} max={side} onChange={(v) => setOcc({ ...occlusion, window: v })} testId="occlusion-window" />
                  <NumberField label="stride" value={occlusion.stride} min={1} max={side} onChange={(v) => setOcc({ ...occlusion, stride: v })} testId="occlusion-stride" />
                  <label className="field inline">
                    <span>fill</span>
                    <select value={occlusion.fill} onChange={(e) => setOcc({ ...occlusion, fill: e.target.value })}>
                      <option value="zero">zero</option>
                      <option value="mean">image mean</option>
                      <option value="blur">blurred</option>
                    </select>
                  </label>
                </fieldset>
              )}
              {methods.has('saliency') && (
                <fieldset className="params">
                  <legend>Saliency</legend>
                  <label className="field inline" title="how the gradient's channels become one map">
                    <span>over channels</span>
                    <select value={saliencyReduce} onChange={(e) => setSaliencyReduce(e.target.value as 'max' | 'sum')} data-testid="saliency-reduce">
                      <option value="max">max |gradient| (Simonyan et al.)</option>
                      <option value="sum">sum of |gradient|</option>
                    </select>
                  </label>
                </fieldset>
              )}
              {noisy && (
                <fieldset className="params">
                  <legend>SmoothGrad · SmoothGrad² · VarGrad</legend>
                  <NumberField label="samples" value={sg.samples} min={1} max={500} onChange={(v) => setSg({ ...sg, samples: v })} testId="smoothgrad-samples" />
                  <NumberField label="noise" value={sg.noise} min={0} max={1} step={0.05} onChange={(v) => setSg({ ...sg, noise: v })} title="standard deviation as a fraction of the image's value range" />
                </fieldset>
              )}
              {methods.has('integrated-gradients') && (
                <fieldset className="params">
                  <legend>Integrated gradients</legend>
                  <NumberField label="steps" value={ig.steps} min={2} max={1000} onChange={(v) => setIg({ ...ig, steps: v })} testId="ig-steps" />
                  <label className="field inline">
                    <span>baseline</span>
                    <select value={ig.baseline} onChange={(e) => setIg({ ...ig, baseline: e.target.value })}>
                      <option value="black">black image</option>
                      <option value="zero">zeros (model space)</option>
                      <option value="blurred">blurred image</option>
                    </select>
                  </label>
                  <label className="field inline" title="how the path integral is approximated">
                    <span>rule</span>
                    <select value={ig.rule} onChange={(e) => setIg({ ...ig, rule: e.target.value })} data-testid="ig-rule">
                      <option value="gausslegendre">Gauss-Legendre (Captum's default)</option>
                      <option value="riemann-trapezoid">Riemann, trapezoid</option>
                      <option value="riemann-middle">Riemann, midpoint</option>
                      <option value="riemann-left">Riemann, left</option>
                      <option value="riemann-right">Riemann, right</option>
                    </select>
                  </label>
                </fieldset>
              )}
              {methods.has('deeplift') && (
                <fieldset className="params">
                  <legend>DeepLIFT</legend>
                  <label className="field inline">
                    <span>baseline</span>
                    <select value={dlBaseline} onChange={(e) => setDlBaseline(e.target.value)} data-testid="deeplift-baseline">
                      <option value="black">black image</option>
                      <option value="zero">zeros (model space)</option>
                      <option value="blurred">blurred image</option>
                    </select>
                  </label>
                </fieldset>
              )}
              {shapMethods && (
                <fieldset className="params">
                  <legend>GradientSHAP · DeepLiftShap</legend>
                  <NumberField label="samples" value={shap.samples} min={1} max={500} onChange={(v) => setShap({ ...shap, samples: v })} testId="shap-samples" title="GradientSHAP: random path points per image" />
                  <NumberField label="baselines" value={shap.count} min={1} max={64} onChange={(v) => setShap({ ...shap, count: v })} testId="shap-baselines" title="size of the baseline set (seeded noise images)" />
                </fieldset>
              )}
              {methods.has('lrp') && (
                <fieldset className="params">
                  <legend>LRP</legend>
                  <label className="field inline" title="rules per layer type">
                    <span>composite</span>
                    <select value={lrp.composite} onChange={(e) => setLrp({ ...lrp, composite: e.target.value })} data-testid="lrp-composite">
                      <option value="epsilon-gamma-box">epsilon-gamma-box (zennit)</option>
                      <option value="epsilon-plus-flat">epsilon-plus-flat (zennit)</option>
                      <option value="epsilon-gamma">epsilon-gamma (Captum rules)</option>
                      <option value="epsilon">epsilon (Captum default)</option>
                    </select>
                  </label>
                  <NumberField label="gamma" value={lrp.gamma} min={0} max={100} step={0.05} onChange={(v) => setLrp({ ...lrp, gamma: v })} testId="lrp-gamma" />
                </fieldset>
              )}
              {smoothable && (
                <fieldset className="params">
                  <legend>CAM smoothing</legend>
                  <label className="check" title="average over horizontal flips and intensity scalings 0.9, 1, 1.1 (pytorch-grad-cam)">
                    <input type="checkbox" checked={camSmooth.augSmooth} onChange={(e) => setCamSmooth({ ...camSmooth, augSmooth: e.target.checked })} data-testid="cam-aug-smooth" />
                    aug smooth
                  </label>
                  <label className="check" title="first principal component of the weighted feature maps instead of their sum">
                    <input type="checkbox" checked={camSmooth.eigenSmooth} onChange={(e) => setCamSmooth({ ...camSmooth, eigenSmooth: e.target.checked })} data-testid="cam-eigen-smooth" />
                    eigen smooth
                  </label>
                </fieldset>
              )}
              {methods.has('guided-gradcam') && (
                <fieldset className="params">
                  <legend>Guided Grad-CAM</legend>
                  <label className="field inline" title="how the Grad-CAM map is upsampled to the input before the product">
                    <span>upsampling</span>
                    <select value={ggcInterpolate} onChange={(e) => setGgcInterpolate(e.target.value as 'bilinear' | 'nearest')}>
                      <option value="bilinear">bilinear</option>
                      <option value="nearest">nearest</option>
                    </select>
                  </label>
                </fieldset>
              )}
            </div>
          )}
          <div className="run-row">
            <ComputeWherePicker value={where} onChange={setWhere} testId="explain-where" />
            <button type="button" className="button primary" disabled={!canRun} onClick={() => void run()} data-testid="explain-run">
              Explain{methods.size ? ` (${methods.size} method${methods.size > 1 ? 's' : ''})` : ''}
            </button>
            {running && (
              <>
                <JobProgress job={job} onCancel={cancel} cancelling={cancelling} testIds={{ bar: 'job-progress', text: 'job-phase', remaining: 'job-remaining', cancel: 'explain-cancel' }} />
              </>
            )}
            {!running && notice && (
              <span className="notice" data-testid="explain-notice">
                {notice}
              </span>
            )}
          </div>
          {noImages && (
            <p className="warning" data-testid="explain-no-images">
              {noImages}: there is nothing to explain here.
            </p>
          )}
          <ErrorBox error={error} title="The explanation failed" onClose={() => setError(null)} testId="explain-error" />
        </div>
      </Panel>

      {shown && (
        <Panel
          title={
            <>
              Attributions for <span className="accent">{shown.target.label}</span>
            </>
          }
          subtitle={<span data-testid="explain-made">{`${shown.modelName} · image ${abbreviateName(shown.imageName)} · ${madeFor(shown)} · computed ${shown.where === 'browser' ? 'in this browser' : 'on the server'}${shown.predictionPass?.kind === 'shared gradient pass' ? ` · shared gradient pass ${Math.round(shown.predictionPass.ms)} ms (methods that reuse it show only their own time)` : ''}`}</span>}
          testId="explain-results"
          actions={
            <div className="toolbar">
              <label className="field inline slider" title="how much of the input shows through; by default 50% for CAMs, 70% for pixel maps">
                <span>Opacity</span>
                <input type="range" min={0} max={1} step={0.05} value={opacity ?? 0.6} onChange={(e) => setOpacity(Number(e.target.value))} data-testid="overlay-opacity" />
                <span className="muted">{opacity === null ? 'per method' : `${Math.round(opacity * 100)}%`}</span>
              </label>
              <Segmented
                label="Range"
                value={range}
                onChange={setRange}
                testId="range-mode"
                options={[
                  { value: 'auto', label: 'per method', title: 'each method’s default, as the CLI draws it: CAMs min–max; pixel maps clipped at the 98th percentile of |value| (Captum’s outlier_perc=2); signed maps symmetric around 0' },
                  { value: 'minmax', label: 'min–max', title: 'the map’s own min to max (signed maps keep 0 at the centre)' },
                  { value: 'p99', label: '99th pct', title: 'clip the top 1% of values so a few outliers do not wash out the rest' },
                  { value: 'symmetric', label: 'symmetric', title: 'signed maps: −max|v| … +max|v|; unsigned maps: 0 … max|v|' },
                ]}
              />
              <Segmented
                label="Colors"
                value={seq}
                onChange={setSeq}
                options={[
                  { value: 'auto', label: 'per method', title: 'turbo for CAM overlays, inferno for pixel maps (as the CLI)' },
                  { value: 'inferno', label: 'inferno' },
                  { value: 'viridis', label: 'viridis' },
                ]}
              />
            </div>
          }
        >
          <MapNotes maps={shown.maps.map((m) => m.map)} />
          <div className="map-grid" data-testid="map-grid">
            <figure className="map-card">
              <figcaption>
                <b>Input</b>
              </figcaption>
              <Overlay input={shownInput} t={null} mapping={null} cmap="gray" opacity={0} testId="overlay-input" />
              <div className="map-note muted">{shownInput ? `${shownInput.width}×${shownInput.height} as the model sees it` : ''}</div>
            </figure>
            {shown.maps.map(({ map, t, raw }) => (
              <MapCard key={map.method} map={map} t={t} raw={raw} npyName={`${shown.imageName}-${map.method}.npy`} input={shownInput} opacity={opacity} range={range} seq={seq} maskName={shown.maskName} />
            ))}
            {shown.skipped.map((s) => (
              <figure key={s.method} className={`map-card skipped${s.failed ? ' failed' : ''}`} data-testid={`skipped-${s.method}`}>
                <figcaption>
                  <span className="swatch" style={{ background: colorOf(s.method) }} />
                  <b>{METHOD_LABEL[s.method] ?? s.method}</b>
                  <span className="tag">{s.failed ? 'failed' : 'does not apply'}</span>
                </figcaption>
                <div className="skipped-reason">{s.reason}</div>
                {s.hint && <div className="skipped-hint muted small">{s.hint}</div>}
              </figure>
            ))}
          </div>
          <p className="caption">
            Unsigned maps use a sequential colormap ({seq === 'auto' ? 'turbo for CAMs, inferno for pixel maps' : seq}); signed maps use a diverging one (blue negative, white zero, red positive) centred on zero. The numbers under each map are the values at the ends of its colour scale.
          </p>
          {(deletion.length > 0 || insertion.length > 0) && (
            <>
              <div className="curves">
                <CurveChart title="Deletion" note="remove the most important pixels first: a good map makes the score fall fast (low AUC)" series={deletion} yLabel={curveScoreLabel(shown.outputKind, Boolean(shown.unit))} testId="curve-deletion" />
                <CurveChart title="Insertion" note="add the most important pixels first: a good map makes the score rise fast (high AUC)" series={insertion} yLabel={curveScoreLabel(shown.outputKind, Boolean(shown.unit))} testId="curve-insertion" />
              </div>
              <table className="auc-table" data-testid="auc-table">
                <thead>
                  <tr>
                    <th>Method</th>
                    <th className="num">Deletion AUC ↓</th>
                    <th className="num">Insertion AUC ↑</th>
                    <th className="num" title="(mean LeRF - mean MoRF) / 2 under noisy linear imputation (Rong et al.)">ROAD ↑</th>
                    <th className="num" title="Captum's infidelity, normalized (squared logit units)">Infidelity ↓</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(shown.metrics ?? {}).map(([m, c]) => (
                    <tr key={m}>
                      <td>
                        <span className="swatch" style={{ background: colorOf(m) }} />
                        {METHOD_LABEL[m] ?? m}
                      </td>
                      <td className="num">{c.deletion ? fmtSig(c.deletion.auc) : '—'}</td>
                      <td className="num">{c.insertion ? fmtSig(c.insertion.auc) : '—'}</td>
                      <td className="num">{c.road ? fmtSig(c.road.combined) : '—'}</td>
                      <td className="num">{c.infidelity !== undefined ? fmtSig(c.infidelity) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {shown.sensitivity && (
            <table className="auc-table" data-testid="sensitivity-table">
              <thead>
                <tr>
                  <th>Method</th>
                  <th className="num" title={`the largest change of the map, relative to its norm, over ${shown.sensitivity.samples} copies of the input perturbed by at most ${shown.sensitivity.radius} (Captum's sensitivity_max)`}>
                    Max-sensitivity ↓
                  </th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(shown.sensitivity.methods).map(([m, v]) => (
                  <tr key={m}>
                    <td>
                      <span className="swatch" style={{ background: colorOf(m) }} />
                      {METHOD_LABEL[m] ?? m}
                    </td>
                    <td className="num">{fmtSig(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {shown.sanity && <SanityView sanity={shown.sanity} maps={shown.maps} input={shownInput} opacity={opacity} range={range} seq={seq} />}
        </Panel>
      )}
      {!shown && running && (
        <Panel title="Attributions">
          <Spinner label="Computing… the rest of the studio stays usable meanwhile." />
        </Panel>
      )}
      <ChannelsPanel
        model={model}
        summary={summary}
        imageId={props.imageId}
        input={input}
        imageName={(props.images?.find((i) => i.id === props.imageId)?.name ?? props.imageId?.replace(/^.*\//, '') ?? '').replace(/\.\w+$/, '')}
        target={subject === 'class' ? target : ''}
        disabled={noImages ? `${noImages}: there is nothing to explain here.` : undefined}
        onExplainChannel={explainChannel}
      />
      <ConceptsPanel
        model={model}
        summary={summary}
        images={props.images}
        imageId={props.imageId}
        imageName={(props.images?.find((i) => i.id === props.imageId)?.name ?? props.imageId?.replace(/^.*\//, '') ?? '').replace(/\.\w+$/, '')}
        disabled={noImages ? `${noImages}: there is nothing to factorize here.` : undefined}
      />
    </div>
  );
}

/**
 * What a result explains, for its subtitle: a class with its score, or a unit with its value and
 * the most active channel's (a unit has values, not probabilities).
 */
/** "output 2", or a named output's "output 2 (age)". */
function nameOfOutput(index: number, label: string): string {
  return label === `output ${index}` ? label : `output ${index} (${label})`;
}

function madeFor(shown: Shown): string {
  // a regression's output is a value: "output 2 · value 0.31", not a class and its logit
  if (!shown.unit && shown.outputKind === 'regression') return `${nameOfOutput(shown.target.index, shown.target.label)} · value ${fmt(shown.target.score)}`;
  if (!shown.unit) return `class ${shown.target.index} (${shown.target.label}) · ${shown.score} ${fmt(shown.target.score)}`;
  const p = shown.predicted;
  return `explaining ${shown.target.label} (${fmt(shown.target.score)})${p ? ` · most active ${p.label} (${fmt(p.logit)})` : ''}`;
}

/** Saves a tensor as a NumPy .npy file (float32, C order), as `convlens explain --npy` writes it. */
function downloadNpy(t: Tensor, name: string): void {
  const bytes = encodeNpy({ dtype: 'float32', dims: t.dims, data: t.data });
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The browser reads the blob after the click returns, later on a busy page: revoke it well after.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * The maps' notes, each once, naming the methods it belongs to unless it belongs to all: a QDQ
 * model's straight-through note comes with every map, and a card is too narrow for 250 characters.
 */
function MapNotes(props: { maps: readonly ExplainMapInfo[] }): ReactNode {
  const methodsByNote = new Map<string, string[]>();
  for (const map of props.maps) for (const note of map.notes ?? []) methodsByNote.set(note, [...(methodsByNote.get(note) ?? []), METHOD_LABEL[map.method] ?? map.method]);
  if (methodsByNote.size === 0) return null;
  return (
    <ul className="map-notes muted small" data-testid="explain-notes">
      {[...methodsByNote].map(([note, methods]) => (
        <li key={note}>
          {methods.length < props.maps.length ? <b>{methods.join(', ')}: </b> : null}
          {note}
        </li>
      ))}
    </ul>
  );
}

const MapCard = memo(function MapCard(props: { map: ExplainMapInfo; t: Tensor; raw: Tensor | null; npyName: string; input: InputView | null; opacity: number | null; range: RangeMode; seq: SeqCmap; maskName?: string | undefined }): ReactNode {
  const { map, t, raw } = props;
  const segments = maskSegments(map, props.maskName);
  // The method's own display defaults (methods/explain/display.ts): colormap, opacity over the input, resampling.
  const style = displayStyle(map.method as MethodName, map.signed, { view: 'overlay' });
  const mapping = useMemo(() => mappingOf(t.data, map.signed, props.range, map.method), [t, map.signed, props.range, map.method]);
  const cmap: ColormapName = map.signed ? 'rdbu' : props.seq === 'auto' ? (style.colormap as ColormapName) : props.seq;
  return (
    <figure className="map-card" data-testid={`map-${map.method}`}>
      <figcaption>
        <span className="swatch" style={{ background: colorOf(map.method) }} />
        <b title={METHOD_LABEL[map.method] ?? map.method}>{METHOD_LABEL[map.method] ?? map.method}</b>
        {map.signed && <span className="tag">signed</span>}
        {map.ms !== undefined && <span className="muted small ms">{map.ms < 1000 ? `${Math.round(map.ms)} ms` : `${(map.ms / 1000).toFixed(1)} s`}</span>}
      </figcaption>
      <Overlay input={props.input} t={t} mapping={mapping} cmap={cmap} opacity={props.opacity ?? style.opacity} smooth={style.interpolation === 'bilinear'} testId={`overlay-${map.method}`} />
      <Colorbar cmap={cmap} lo={mapping.lo} hi={mapping.hi} {...(mapping.mid !== undefined ? { mid: mapping.mid } : {})} />
      {segments && (
        <div className="map-note muted" data-testid={`segments-${map.method}`} title="the segments were the flat colours of this mask, not computed">
          {segments}
        </div>
      )}
      {mapping.note && (
        <div className="map-note muted" data-testid={`range-${map.method}`}>
          range: {mapping.note}
        </div>
      )}
      {raw && (
        <button type="button" className="link-button small map-npy" title={`the raw result [${raw.dims.join(', ')}], before normalization or upsampling`} onClick={() => downloadNpy(raw, props.npyName)} data-testid={`npy-${map.method}`}>
          raw .npy [{raw.dims.join('×')}]
        </button>
      )}
    </figure>
  );
});

/**
 * "segments: disc.png, 3 segments" for a segment method run over the user's mask (its params say
 * "segmentation: mask"; the name from them, or else from the request), otherwise undefined.
 */
function maskSegments(map: ExplainMapInfo, requested: string | undefined): string | undefined {
  const p = map.params;
  if (p?.['segmentation'] !== 'mask') return undefined;
  const name = typeof p['mask'] === 'string' ? p['mask'] : requested;
  const counts = Array.isArray(p['segments']) ? p['segments'].filter((n): n is number => typeof n === 'number') : [];
  const count = counts.length ? `${counts.join('/')} segment${counts.length === 1 && counts[0] === 1 ? '' : 's'}` : undefined;
  return `segments: ${[name ?? 'my mask', count].filter(Boolean).join(', ')}`;
}

/**
 * The input image with a segments mask over it: each segment tinted with its own colour, its
 * edges drawn in white, so the user sees which pixels each segment holds.
 */
function MaskOverlay(props: { input: InputView | null; mask: MaskEntry }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const { w, h } = fitSize(props.input ?? props.mask, 208);
  const [img, setImg] = useState<HTMLImageElement | null>(null);
  useEffect(() => {
    const im = new Image();
    im.onload = () => setImg(im);
    im.src = props.mask.url;
    return () => {
      im.onload = null;
    };
  }, [props.mask.url]);
  useEffect(() => {
    const c = ref.current;
    if (!c || !img) return;
    const ctx = fitCanvas(c, w, h);
    if (props.input) drawInput(ctx, props.input, w, h);
    else ctx.clearRect(0, 0, w, h);
    // the mask at the canvas's pixel size, nearest neighbour (no blended labels)
    const [cw, ch] = [c.width, c.height];
    const off = document.createElement('canvas');
    [off.width, off.height] = [cw, ch];
    const octx = off.getContext('2d')!;
    octx.imageSmoothingEnabled = false;
    octx.drawImage(img, 0, 0, cw, ch);
    const px = octx.getImageData(0, 0, cw, ch);
    const d = px.data;
    const key = (p: number): number => (d[4 * p]! << 16) | (d[4 * p + 1]! << 8) | d[4 * p + 2]!;
    const out = new ImageData(cw, ch);
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) {
        const p = y * cw + x;
        const k = key(p);
        const edge = (x + 1 < cw && key(p + 1) !== k) || (y + 1 < ch && key(p + cw) !== k);
        out.data.set(edge ? [255, 255, 255, 255] : [d[4 * p]!, d[4 * p + 1]!, d[4 * p + 2]!, 110], 4 * p);
      }
    }
    octx.putImageData(out, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(off, 0, 0);
  }, [props.input, img, w, h]);
  return (
    <figure className="segments-mask-view">
      <canvas ref={ref} className="overlay-canvas" style={{ width: w, height: h }} data-testid="segments-mask-overlay" />
      <figcaption className="muted small">the mask's segments over the image (white: edges)</figcaption>
    </figure>
  );
}

/** The input image with a map drawn over it. */
function Overlay(props: { input: InputView | null; t: Tensor | null; mapping: Mapping | null; cmap: ColormapName; opacity: number; smooth?: boolean; testId?: string; size?: number }): ReactNode {
  const ref = useRef<HTMLCanvasElement>(null);
  const dims = props.t?.dims ?? [];
  const mh = dims[dims.length - 2] ?? 1;
  const mw = dims[dims.length - 1] ?? 1;
  const { w, h } = fitSize(props.input ?? { width: mw, height: mh }, props.size ?? 208);
  const heat = useMemo(() => (props.t && props.mapping ? imageDataCanvas(mapToImageData(props.t.data, 0, mh, mw, props.mapping, props.cmap)) : null), [props.t, props.mapping, props.cmap, mh, mw]);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const ctx = fitCanvas(c, w, h);
    ctx.globalAlpha = 1;
    if (props.input) drawInput(ctx, props.input, w, h);
    else ctx.clearRect(0, 0, w, h);
    if (heat) {
      ctx.globalAlpha = props.input ? props.opacity : 1;
      // CAMs are resampled bilinearly, pixel maps keep their pixels (as the CLI draws them)
      ctx.imageSmoothingEnabled = props.smooth ?? w / mw < 3;
      ctx.drawImage(heat, 0, 0, w, h);
      ctx.globalAlpha = 1;
    }
  }, [props.input, heat, props.opacity, props.smooth, w, h, mw]);
  return <canvas ref={ref} className="overlay-canvas" style={{ width: w, height: h }} data-testid={props.testId} />;
}

type SanityMetric = 'spearman' | 'spearmanAbs' | 'ssim';
const SANITY_METRICS: Record<SanityMetric, { short: string; long: string }> = {
  spearman: { short: 'ρ', long: 'Spearman rank correlation of the signed maps' },
  spearmanAbs: { short: '|ρ|', long: 'Spearman rank correlation of |map|' },
  ssim: { short: 'SSIM', long: 'SSIM of |map| / max |map|' },
};
/** "/fires.7/expand3x3/Conv" reads as "fires.7/expand3x3" (as the CLI's chart names the steps). */
const shortLayer = (l: string): string => l.replace(/^\//, '').replace(/\/(Conv|Gemm|MatMul|ConvTranspose)$/, '');
const scoreText = (v: number | null): string => (v === null ? '—' : v.toFixed(2));

/**
 * The model-randomization check as the CLI draws it (sanity.png, sanity-grid.png): per method the
 * trained model's map, then the map after each randomized layer, left to right, with its
 * similarity to the trained one; and the similarity against the layers randomized.
 */
function SanityView(props: { sanity: SanityResult<Tensor>; maps: Shown['maps']; input: InputView | null; opacity: number | null; range: RangeMode; seq: SeqCmap }): ReactNode {
  const { sanity } = props;
  const [metric, setMetric] = useState<SanityMetric>('spearman');
  const rows = props.maps.filter((m) => sanity.steps[0]?.maps[m.map.method]);
  const L = sanity.layers.length;
  const series: CurveSeries[] = useMemo(
    () =>
      rows.map(({ map }) => {
        const x = Array.from({ length: L + 1 }, (_, i) => i);
        const y = [1, ...sanity.steps.map((st) => st.scores[map.method]?.[metric] ?? NaN)];
        return { label: METHOD_LABEL[map.method] ?? map.method, color: colorOf(map.method), curve: { x, y, auc: NaN } };
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [sanity, metric, rows.length],
  );
  const lowest = Math.min(-0.2, ...series.flatMap((s) => s.curve.y.filter(Number.isFinite)));
  const constant = sanity.steps.some((st) => Object.values(st.scores).some((sc) => sc.constant));
  return (
    <section className="sanity" data-testid="sanity-results">
      <h3 className="sanity-title">Sanity check: model randomization</h3>
      <p className="sanity-interpretation" data-testid="sanity-interpretation">
        Maps that still look the same after randomization do not depend on what the model learned (Adebayo et al. 2018).
      </p>
      <p className="muted small">
        The weights of the last {L} of {sanity.available} layers with weights were re-drawn at random (normal, with each layer's own spread; seed {sanity.seed}), one more layer per step from the output, and every map recomputed. Scores compare each map with the trained model's: 1 is unchanged, 0 unrelated.
        {constant ? ' Where a randomized map is constant (no gradient reaches the target, or a CAM clips every pixel) no similarity is defined: its tile says so and the chart has a gap.' : ''}
      </p>
      <div className="sanity-chart">
        <CurveChart
          title="Similarity to the trained model's map"
          note="a map that explains the model falls away from 1 as its layers are randomized"
          series={series}
          yLabel={SANITY_METRICS[metric].long}
          x={{ min: 0, max: L, step: 1, title: 'randomized down to (from the output)', tick: (v) => (v === 0 ? 'none' : shortLayer(sanity.layers[v - 1] ?? '')) }}
          y={{ min: Math.floor(lowest * 5) / 5, max: 1 }}
          legend={(s) => s.label}
          points
          testId="sanity-chart"
        />
        <Segmented
          label="Score"
          value={metric}
          onChange={setMetric}
          options={(Object.keys(SANITY_METRICS) as SanityMetric[]).map((k) => ({ value: k, label: SANITY_METRICS[k].short, title: SANITY_METRICS[k].long }))}
          testId="sanity-metric"
        />
      </div>
      <div className="sanity-cascade" data-testid="sanity-cascade">
        {rows.map(({ map, t }) => (
          <div key={map.method} className="sanity-row" data-testid={`sanity-row-${map.method}`}>
            <div className="sanity-method">
              <span className="swatch" style={{ background: colorOf(map.method) }} />
              <b>{METHOD_LABEL[map.method] ?? map.method}</b>
            </div>
            <div className="sanity-strip">
              <SanityTile label="trained" t={t} map={map} {...props} />
              {sanity.steps.map((st, k) => (
                <SanityTile key={st.layer} label={`randomized to ${shortLayer(st.layer)}`} t={st.maps[map.method]!} map={map} scores={st.scores[map.method]} testId={`sanity-${map.method}-${k + 1}`} {...props} />
              ))}
            </div>
          </div>
        ))}
      </div>
    </section>
  );
}

function SanityTile(props: { label: string; t: Tensor; map: ExplainMapInfo; scores?: SanityScores | undefined; input: InputView | null; opacity: number | null; range: RangeMode; seq: SeqCmap; testId?: string }): ReactNode {
  const { map, t } = props;
  const style = displayStyle(map.method as MethodName, map.signed, { view: 'overlay' });
  // each tile its own range, as the CLI's grid: a randomized map's scale says nothing
  const mapping = useMemo(() => mappingOf(t.data, map.signed, props.range, map.method), [t, map.signed, props.range, map.method]);
  const cmap: ColormapName = map.signed ? 'rdbu' : props.seq === 'auto' ? (style.colormap as ColormapName) : props.seq;
  const sc = props.scores;
  return (
    <figure className="sanity-tile" data-testid={props.testId}>
      <figcaption title={props.label}>{props.label}</figcaption>
      <Overlay input={props.input} t={t} mapping={mapping} cmap={cmap} opacity={props.opacity ?? style.opacity} smooth={style.interpolation === 'bilinear'} size={128} />
      <div className="sanity-scores small" data-testid={props.testId ? `${props.testId}-scores` : undefined}>
        {sc ? (sc.constant ? <span className="muted">constant map: no similarity</span> : `ρ ${scoreText(sc.spearman)} · |ρ| ${scoreText(sc.spearmanAbs)} · SSIM ${scoreText(sc.ssim)}`) : <span className="muted">reference</span>}
      </div>
    </figure>
  );
}
