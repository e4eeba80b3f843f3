/**
 * The page: header, then controls and state beside the charts, timeline, log,
 * advanced forms, time travel, archive replay and the world's panels; the
 * journey dialog opens from any entity id.
 */
import type { AppState } from './lib/app-state.js'
import { Advanced } from './components/Advanced.js'
import { Charts } from './components/Chart.js'
import { AppContext } from './components/context.js'
import { Controls } from './components/Controls.js'
import { EventLog } from './components/EventLog.js'
import { Header } from './components/Header.js'
import { JourneyDialog } from './components/Journey.js'
import { Toasts, TokenDialog } from './components/Overlays.js'
import { Replay } from './components/Replay.js'
import { Scenarios } from './components/Scenarios.js'
import { StatePanel } from './components/StatePanel.js'
import { TimeTravel } from './components/TimeTravel.js'
import { Timeline } from './components/Timeline.js'
import { WorldSlot } from './worlds/WorldSlot.js'

export function App({ app }: { app: AppState }) {
  return (
    <AppContext.Provider value={app}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" class="layout">
        <div class="side">
          <Controls />
          <Scenarios />
          <StatePanel />
        </div>
        <div class="content">
          <Charts />
          <div class="split">
            <Timeline />
            <EventLog />
          </div>
          <Advanced />
          <TimeTravel />
          <Replay />
          <WorldSlot />
        </div>
      </main>
      <JourneyDialog />
      <Toasts />
      <TokenDialog />
    </AppContext.Provider>
  )
}
