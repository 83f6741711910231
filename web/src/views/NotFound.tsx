import { Link } from "../lib/router";

export function NotFound({ path }: { path: string }) {
  return (
    <div className="empty-state" data-testid="not-found">
      <h1>Page not found</h1>
      <p className="muted">
        Nothing lives at <code>{path}</code>.
      </p>
      <Link href="/">Back to the models</Link>
    </div>
  );
}
