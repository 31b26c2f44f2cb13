package cobra

type Command struct{ Use string }
