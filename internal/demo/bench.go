package demo

// PID is the process id of the server last started, or 0 before Start.
func (s *Serve) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
