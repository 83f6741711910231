// Display settings of the gallery: a client concern, kept in this browser.
import type { ColourMode } from "./overlay";

export interface DisplaySettings {
  cardSize: number;
  colourMode: ColourMode;
  labels: boolean;
  predictions: boolean;
  hiddenFeatures: string[];
}

export const DEFAULT_DISPLAY: DisplaySettings = { cardSize: 220, colourMode: "feature", labels: true, predictions: true, hiddenFeatures: [] };
const STORAGE_KEY = "modelledger.display";

export function loadDisplay(): DisplaySettings {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    return stored && typeof stored === "object" ? { ...DEFAULT_DISPLAY, ...stored } : DEFAULT_DISPLAY;
  } catch {
    return DEFAULT_DISPLAY;
  }
}

export function saveDisplay(settings: DisplaySettings): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // A full or disabled storage only costs the settings on reload.
  }
}
