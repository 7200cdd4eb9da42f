import { useEffect, useRef, useState, type ReactNode } from 'react';
import { runtimeLabel, stylizeInBrowser } from '../compute';
import { ErrorBox, Panel, Spinner } from './ui';

// Fast style transfer in the browser: the style network runs on onnxruntime-web through the
// engine's own adapter, in the engine worker, so moving the blend slider restyles the image without
// a server round trip and without freezing the page. Runs are serialized; while one runs, only the
// newest request waits.

interface Request {
  net: string;
  image: string;
  weights: number[];
  maxSide: number;
}

function drawTo(canvas: HTMLCanvasElement | null, img: ImageData): void {
  if (!canvas) return;
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d')!.putImageData(img, 0, 0);
}

export function BrowserStyle(props: Request): ReactNode {
  const contentRef = useRef<HTMLCanvasElement>(null);
  const outputRef = useRef<HTMLCanvasElement>(null);
  const [status, setStatus] = useState<{ state: 'loading' | 'running' | 'done' | 'error'; text: string }>({ state: 'loading', text: 'loading ONNX Runtime for the web…' });
  const [ms, setMs] = useState<number | null>(null);
  const [threads, setThreads] = useState(1);
  const queue = useRef<{ busy: boolean; next: Request | null }>({ busy: false, next: null });

  const { net, image, maxSide } = props;
  const weightsKey = props.weights.join(',');

  useEffect(() => {
    const state = queue.current;
    state.next = { net, image, maxSide, weights: weightsKey.split(',').map(Number) };
    if (state.busy) return;
    state.busy = true;
    void (async () => {
      let shown = '';
      while (state.next) {
        const r = state.next;
        state.next = null;
        try {
          setStatus({ state: 'running', text: 'stylizing in this browser…' });
          const out = await stylizeInBrowser(r.net, r.image, r.maxSide, r.weights);
          if (shown !== `${r.image}@${r.maxSide}`) {
            drawTo(contentRef.current, out.content);
            shown = `${r.image}@${r.maxSide}`;
          }
          drawTo(outputRef.current, out.image);
          outputRef.current?.setAttribute('data-weights', r.weights.join(','));
          setMs(out.ms);
          setThreads(out.threads);
          setStatus({ state: 'done', text: '' });
        } catch (e) {
          setStatus({ state: 'error', text: (e as Error).message });
        }
      }
      state.busy = false;
    })();
  }, [net, image, maxSide, weightsKey]);

  return (
    <Panel title="Fast style, in this browser" subtitle="The style network runs in this browser on onnxruntime-web (in a worker), through the same engine code as the server: move the blend slider and it restyles at once." testId="browser-style">
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12, alignItems: 'flex-start' }}>
        <figure style={{ margin: 0, textAlign: 'center' }}>
          <canvas ref={contentRef} data-testid="browser-style-content" style={{ maxWidth: 384, display: 'block' }} />
          <figcaption className="small muted">content</figcaption>
        </figure>
        <figure style={{ margin: 0, textAlign: 'center' }}>
          <canvas ref={outputRef} data-testid="browser-style-output" data-ms={ms === null ? undefined : ms.toFixed(0)} style={{ maxWidth: 384, display: 'block' }} />
          <figcaption className="small muted" data-testid="browser-style-caption">
            {ms === null ? 'stylized' : `stylized in ${ms.toFixed(0)} ms · ${runtimeLabel(threads)}`}
          </figcaption>
        </figure>
      </div>
      {status.state === 'loading' || status.state === 'running' ? <Spinner label={status.text} /> : null}
      <ErrorBox error={status.state === 'error' ? { message: status.text, hint: 'The server can run the same network: untick "in this browser".' } : null} title="Stylizing in the browser failed" testId="browser-style-error" />
    </Panel>
  );
}
