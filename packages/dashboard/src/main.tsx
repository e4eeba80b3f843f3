/** Entry: builds the app state, renders the page, then starts talking to the gateway. */
import { render } from 'preact'
import { App } from './app.js'
import { createAppState } from './lib/app-state.js'
import './styles.css'

const app = createAppState()
const root = document.getElementById('app')
if (root) {
  root.textContent = ''
  render(<App app={app} />, root)
}
// When the simulation state first shows (world, clock): the meaningful paint,
// measured by the browser test next to first-contentful-paint.
const off = app.state.subscribe(() => {
  off()
  requestAnimationFrame(() => performance.mark('verisim:state-shown'))
})
app.start()
