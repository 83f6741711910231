import { type FormEvent, useState } from "react";
import { useMutation, useSubscription } from "urql";
import { errorText } from "../api/client";
import { CREATE_SLICE, DELETE_SLICE, RENAME_SLICE, SLICE_MEMBERSHIP, type SliceCount, userError } from "../api/gallery";
import type { DataRowFilter } from "../lib/filters";
import { useSession } from "../session";

interface Props {
  runId: string;
  modelId: string;
  saved: SliceCount[];
  auto: SliceCount[];
  autoProblem: string | null;
  savedProblem: string | null;
  confidence: number | null;
  iou: number | null;
  /** Live counts only for the run's latest version; an older one is read once. */
  live: boolean;
  filter: DataRowFilter | null;
  activeFilter: string;
  onApply: (filter: DataRowFilter) => void;
  onChanged: () => void;
}

function LiveCount({ runId, slice, confidence, iou, live }: { runId: string; slice: SliceCount; confidence: number | null; iou: number | null; live: boolean }) {
  const [{ data }] = useSubscription<{ sliceMembership: { count: number } }>({
    query: SLICE_MEMBERSHIP,
    variables: { runId, sliceId: slice.id, autoSlice: slice.id ? null : slice.name, confidence, iou },
    pause: !live || confidence === null || iou === null,
  });
  const value = data?.sliceMembership.count ?? slice.count;
  return (
    <span className="count" title={slice.reason ?? undefined}>
      {value === null ? "–" : value}
    </span>
  );
}

function SliceRow(props: { slice: SliceCount; runId: string; confidence: number | null; iou: number | null; live: boolean; active: boolean; editable: boolean; onApply: () => void; onChanged: () => void }) {
  const { slice } = props;
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(slice.name);
  const [problem, setProblem] = useState<string | null>(null);
  const [, rename] = useMutation(RENAME_SLICE);
  const [, remove] = useMutation(DELETE_SLICE);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const answer = await rename({ input: { sliceId: slice.id, name: name.trim() } });
    const failed = answer.error ? errorText(answer.error) : userError(answer.data?.renameSlice);
    setProblem(failed);
    if (!failed) {
      setRenaming(false);
      props.onChanged();
    }
  };
  const onDelete = async () => {
    if (!window.confirm(`Delete the slice "${slice.name}"?`)) return;
    const answer = await remove({ input: { sliceId: slice.id } });
    const failed = answer.error ? errorText(answer.error) : userError(answer.data?.deleteSlice);
    setProblem(failed);
    if (!failed) props.onChanged();
  };
  return (
    <li className={`slice-item${props.active ? " active" : ""}`} data-testid="slice-item" data-slice-name={slice.name}>
      {renaming ? (
        <form onSubmit={submit} className="slice-rename">
          <input autoFocus value={name} onChange={(e) => setName(e.target.value)} data-testid="slice-rename-input" aria-label="New name" />
          <button type="submit" className="small" data-testid="slice-rename-save">
            Save
          </button>
          <button type="button" className="ghost small" onClick={() => setRenaming(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button className="slice-name" onClick={props.onApply} title={slice.reason ?? `Show the rows of ${slice.name}`}>
          <span>{slice.name}</span>
          <LiveCount runId={props.runId} slice={slice} confidence={props.confidence} iou={props.iou} live={props.live} />
        </button>
      )}
      {props.editable && !renaming && (
        <span className="slice-actions">
          <button className="icon" title="Rename" aria-label={`Rename ${slice.name}`} data-testid="slice-rename" onClick={() => setRenaming(true)}>
            ✎
          </button>
          <button className="icon" title="Delete" aria-label={`Delete ${slice.name}`} data-testid="slice-delete" onClick={onDelete}>
            ✕
          </button>
        </span>
      )}
      {problem && <div className="error small">{problem}</div>}
    </li>
  );
}

export function SliceList(props: Props) {
  const { viewer } = useSession();
  const [saving, setSaving] = useState(false);
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [createState, create] = useMutation(CREATE_SLICE);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!props.filter) return;
    const answer = await create({ input: { modelId: props.modelId, name: name.trim(), filter: props.filter } });
    const failed = answer.error ? errorText(answer.error) : userError(answer.data?.createSlice);
    setProblem(failed);
    if (!failed) {
      setSaving(false);
      setName("");
      props.onChanged();
    }
  };
  const filterOf = (s: SliceCount): DataRowFilter => (s.id ? { all: [{ slice: s.id }] } : { all: [{ autoSlice: s.name }] });
  return (
    <div className="slice-list" data-testid="slice-list">
      <div className="side-head">
        <h3>Saved slices</h3>
        {!viewer.readOnly && (
          <button
            className="small"
            data-testid="save-slice"
            disabled={!props.filter}
            title={props.filter ? "Save the current filter as a slice" : "Add a filter first"}
            onClick={() => setSaving((s) => !s)}
          >
            Save filter
          </button>
        )}
      </div>
      {saving && (
        <form className="slice-save" onSubmit={save}>
          <input autoFocus placeholder="Slice name (3–60 characters)" value={name} onChange={(e) => setName(e.target.value)} data-testid="slice-name-input" aria-label="Slice name" />
          <button type="submit" className="primary small" data-testid="slice-save-submit" disabled={createState.fetching}>
            Save
          </button>
        </form>
      )}
      {problem && <div className="error small" data-testid="slice-problem">{problem}</div>}
      {props.savedProblem && <div className="error small">{props.savedProblem}</div>}
      <ul>
        {props.saved.map((s) => (
          <SliceRow
            key={s.id ?? s.name}
            slice={s}
            runId={props.runId}
            confidence={props.confidence}
            iou={props.iou}
            live={props.live}
            active={props.activeFilter === JSON.stringify(filterOf(s))}
            editable={!viewer.readOnly}
            onApply={() => props.onApply(filterOf(s))}
            onChanged={props.onChanged}
          />
        ))}
        {!props.saved.length && <li className="muted small">None yet: filter the gallery, then save the filter.</li>}
      </ul>
      <div className="side-head">
        <h3>Automatic slices</h3>
      </div>
      {props.autoProblem && <div className="muted small">{props.autoProblem}</div>}
      <ul>
        {props.auto.map((s) => (
          <SliceRow
            key={s.name}
            slice={s}
            runId={props.runId}
            confidence={props.confidence}
            iou={props.iou}
            live={props.live}
            active={props.activeFilter === JSON.stringify(filterOf(s))}
            editable={false}
            onApply={() => props.onApply(filterOf(s))}
            onChanged={props.onChanged}
          />
        ))}
      </ul>
    </div>
  );
}
