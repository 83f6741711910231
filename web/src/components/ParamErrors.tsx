import { navigate } from "../lib/router";

/** Unknown or invalid query parameters: shown, never silently ignored. */
export function ParamErrors({ errors }: { errors: string[] }) {
  if (!errors.length) return null;
  return (
    <div className="error param-errors" role="alert" data-testid="param-error">
      <ul>
        {errors.map((e) => (
          <li key={e}>{e}</li>
        ))}
      </ul>
      <button className="ghost small" onClick={() => navigate(window.location.pathname)}>
        Clear the parameters
      </button>
    </div>
  );
}

export function ErrorBox({ message, testId }: { message: string; testId?: string }) {
  return (
    <div className="error" role="alert" data-testid={testId ?? "error"}>
      {message}
    </div>
  );
}
