/** The control that picks the version a run is read at (empty: its latest). */
export function VersionSelect({ latest, value, onChange, run, label = "Version" }: {
  /** The run's latest version; null while unknown. */
  latest: number | null;
  value: number | null;
  onChange: (version: number | null) => void;
  /** Which run of a comparison it picks for ("a" or "b"). */
  run?: "a" | "b";
  label?: string;
}) {
  const versions = latest === null ? [] : Array.from({ length: latest }, (_, i) => latest - i);
  return (
    <label className="inline-field">
      <span className="muted small">{label}</span>
      <select
        data-testid="version-select"
        data-run={run}
        className="compact"
        value={value === null ? "" : String(value)}
        onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)}
      >
        <option value="">latest{latest === null ? "" : ` (${latest})`}</option>
        {value !== null && !versions.includes(value) && <option value={String(value)}>{value} (none)</option>}
        {versions.map((v) => (
          <option key={v} value={String(v)}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
}
