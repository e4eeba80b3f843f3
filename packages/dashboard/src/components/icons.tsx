/** Inline SVG icons (no icon font, nothing fetched). */
import type { Severity } from '../lib/model.js'

export function SeverityIcon({ severity, size = 16 }: { severity: Severity; size?: number }) {
  const label = severity === 'critical' ? 'critical' : severity === 'warning' ? 'warning' : 'info'
  return (
    <svg
      class={`sev sev-${severity}`}
      width={size}
      height={size}
      viewBox="0 0 16 16"
      role="img"
      aria-label={label}
    >
      {severity === 'critical' ? (
        <>
          <path d="M5 1h6l4 4v6l-4 4H5l-4-4V5z" />
          <path d="M7.1 4h1.8l-.3 5H7.4zM7 11h2v2H7z" class="glyph" />
        </>
      ) : severity === 'warning' ? (
        <>
          <path d="M8 1l7.5 13.5H.5z" />
          <path d="M7.2 5.5h1.6l-.3 4.5H7.5zM7.1 11.2h1.8v1.8H7.1z" class="glyph" />
        </>
      ) : (
        <>
          <circle cx="8" cy="8" r="7" />
          <path d="M7.1 7h1.8v5.5H7.1zM7.1 3.5h1.8v1.8H7.1z" class="glyph" />
        </>
      )}
    </svg>
  )
}

export function FlagDot({ flag }: { flag: 'warning' | 'critical' }) {
  return <span class={`flag flag-${flag}`}>{flag}</span>
}
