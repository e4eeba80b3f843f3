/** Toasts (success / error / info, announced politely) and the admin-token prompt. */
import { useEffect, useRef, useState } from 'preact/hooks'
import { useSignal } from '../lib/signal.js'
import { useApp } from './context.js'

export function Toasts() {
  const app = useApp()
  const toasts = useSignal(app.toasts)
  return (
    <div class="toasts" role="status" aria-live="polite" id="toasts">
      {toasts.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} data-kind={t.kind}>
          <span>{t.text}</span>
          <button type="button" class="link" aria-label="Dismiss" onClick={() => app.dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}

export function TokenDialog() {
  const app = useApp()
  const prompt = useSignal(app.tokenPrompt)
  const dialog = useRef<HTMLDialogElement>(null)
  const [token, setToken] = useState('')
  useEffect(() => {
    const d = dialog.current
    if (!d) return
    if (prompt && !d.open) {
      setToken('')
      d.showModal()
    } else if (!prompt && d.open) d.close()
  }, [prompt])
  return (
    <dialog
      ref={dialog}
      class="modal"
      id="token-dialog"
      aria-labelledby="token-h"
      onCancel={() => app.answerToken(null)}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault()
          app.answerToken(token)
        }}
      >
        <h2 id="token-h">Admin token needed</h2>
        <p class="muted">{prompt?.message}</p>
        <label>
          ADMIN_TOKEN
          <input
            type="password"
            autocomplete="off"
            value={token}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
            autofocus
          />
        </label>
        <p class="muted small">Kept for this tab only (sessionStorage).</p>
        <div class="row end">
          <button type="button" onClick={() => app.answerToken(null)}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={!token.trim()}>
            Continue
          </button>
        </div>
      </form>
    </dialog>
  )
}
