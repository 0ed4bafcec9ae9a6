// Counters of one simulator run, live (the caller reads them; the simulator writes them).

export interface SimulatorStats {
  /** Data frames encoded (once per frame, whatever the number of receivers). */
  framesGenerated: number;
  /** Frames a scenario `drop` event withheld from every destination. */
  framesDropped: number;
  /** Frames skipped because the event loop fell behind by more than the catch-up bound. */
  framesLate: number;
  tcpFramesSent: number;
  /** Data frames not written to a TCP client whose socket was full (back-pressure), summed. */
  tcpFramesSkipped: number;
  udpFramesSent: number;
  /** UDP datagrams not sent because too many sends were in flight. */
  udpFramesShed: number;
  udpErrors: number;
  /** Command frames received (TCP and UDP), and those ignored (wrong IDCODE, unsupported). */
  commands: number;
  commandsIgnored: number;
  /** Bytes from clients that were not valid frames, or frames that failed to decode. */
  garbageBytes: number;
  connections: number;
  connectionsTotal: number;
}

export const newStats = (): SimulatorStats => ({
  framesGenerated: 0,
  framesDropped: 0,
  framesLate: 0,
  tcpFramesSent: 0,
  tcpFramesSkipped: 0,
  udpFramesSent: 0,
  udpFramesShed: 0,
  udpErrors: 0,
  commands: 0,
  commandsIgnored: 0,
  garbageBytes: 0,
  connections: 0,
  connectionsTotal: 0,
});
