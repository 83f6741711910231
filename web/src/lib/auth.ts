// The API key lives in localStorage until the user signs out.
const STORAGE_KEY = "modelledger.apiKey";

export function storedKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string): void {
  localStorage.setItem(STORAGE_KEY, key);
}

export function forgetKey(): void {
  localStorage.removeItem(STORAGE_KEY);
}

export function authorization(key: string): string {
  return `Bearer ${key}`;
}
