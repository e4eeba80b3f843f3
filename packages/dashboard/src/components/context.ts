/** The app state, handed to every component through context. */
import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { AppState } from '../lib/app-state.js'

export const AppContext = createContext<AppState | null>(null)

export function useApp(): AppState {
  const app = useContext(AppContext)
  if (!app) throw new Error('AppContext missing')
  return app
}
