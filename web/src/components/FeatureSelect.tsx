import type { Feature } from "../api/gallery";

/** One feature, or the empty choice ("any feature", "None", …) as "". */
export function FeatureSelect({ features, value, onChange, empty, testId }: {
  features: Feature[];
  value: string;
  onChange: (name: string) => void;
  empty: string;
  testId: string;
}) {
  return (
    <select data-testid={testId} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{empty}</option>
      {features.map((f) => (
        <option key={f.name} value={f.name}>
          {f.name}
        </option>
      ))}
    </select>
  );
}
