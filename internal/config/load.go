package config

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Problem is one missing or malformed variable. It names the variable and
// says what is wrong, and never holds the value, which may be a secret.
type Problem struct {
	Var    string
	Reason string
}

// Error lists every problem found while loading the configuration, so an
// operator fixes them all in one deploy instead of one per restart.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	for i, p := range e.Problems {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s %s", sep, p.Var, p.Reason)
	}
	return b.String()
}

// Var describes one environment variable of a configuration struct.
type Var struct {
	Name        string
	Default     string
	Required    bool
	Secret      bool
	Description string
}

// Vars lists the variables read into a struct of the given type, in field
// order. It drives .env.example and the documentation, which its tests
// regenerate and compare, and the deploy checks in tools/, which hold
// every deploy file to these names: no process calls it.
func Vars(spec any) []Var {
	var vars []Var
	walk(reflect.ValueOf(spec).Elem(), func(f reflect.StructField, _ reflect.Value) {
		vars = append(vars, varOf(f))
	})
	return vars
}

// Process fills the struct that spec points to from lookup, which has the
// signature of os.LookupEnv. It is a thin layer over envconfig that fixes
// three of its habits: it reports every problem, not only the first; a
// variable set to the empty string counts as unset; and its errors name
// variables but never print their values.
//
// Each field carries its variable's name in an `envconfig` tag, and may
// carry `default`, `required:"true"` and `desc` tags. Nested structs
// without an `envconfig` tag group fields and are walked recursively.
func Process(spec any, lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(spec)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return errors.New("config: spec must be a pointer to a struct")
	}
	var problems []Problem
	walk(v.Elem(), func(f reflect.StructField, field reflect.Value) {
		info := varOf(f)
		raw, _ := lookup(info.Name)
		if raw == "" {
			if info.Required {
				problems = append(problems, Problem{info.Name, "is required but not set"})
				return
			}
			raw = info.Default
		}
		if raw == "" {
			return
		}
		if err := decode(f, field, raw); err != nil {
			problems = append(problems, Problem{info.Name, "is not " + describe(f.Type)})
		}
	})
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	return nil
}

// walk calls fn for every leaf field of the struct v.
func walk(v reflect.Value, fn func(reflect.StructField, reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Tag.Get("envconfig") == "" {
			walk(v.Field(i), fn)
			continue
		}
		if f.Tag.Get("envconfig") == "" {
			continue
		}
		fn(f, v.Field(i))
	}
}

func varOf(f reflect.StructField) Var {
	return Var{
		Name:        f.Tag.Get("envconfig"),
		Default:     f.Tag.Get("default"),
		Required:    f.Tag.Get("required") == "true",
		Secret:      isSecret(f.Type),
		Description: f.Tag.Get("desc"),
	}
}

// isSecret reports whether values of type t are masked when printed.
func isSecret(t reflect.Type) bool {
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t == reflect.TypeFor[Secret]() || t == reflect.TypeFor[URL]()
}

// unsetName is a variable name that no environment can hold: names are C
// strings, so they cannot contain NUL.
const unsetName = "\x00"

// decode parses raw into field with envconfig's conversions (durations,
// numbers, booleans, lists, Decoder and TextUnmarshaler types). envconfig
// reads only the process environment, so the value is handed to it as the
// default of a one-field struct whose variable can never be set.
func decode(f reflect.StructField, field reflect.Value, raw string) error {
	tag := fmt.Sprintf(`envconfig:%s default:%s`, strconv.Quote(unsetName), strconv.Quote(raw))
	one := reflect.New(reflect.StructOf([]reflect.StructField{{
		Name: "Value",
		Type: f.Type,
		Tag:  reflect.StructTag(tag),
	}}))
	if err := envconfig.Process("", one.Interface()); err != nil {
		return err
	}
	field.Set(one.Elem().Field(0))
	return nil
}

// describe names the kind of value a field wants, for error messages.
func describe(t reflect.Type) string {
	if d, ok := reflect.New(t).Interface().(interface{ Describe() string }); ok {
		return d.Describe()
	}
	switch {
	case t == reflect.TypeFor[slog.Level]():
		return "a level: debug, info, warn or error"
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 250ms, 5s or 1m"
	case t.Kind() == reflect.Bool:
		return "a boolean (true or false)"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return "a valid " + t.String()
}

// Setting is one variable and its effective value as printed: secrets and
// URL passwords are masked.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Effective lists the effective value of every variable of the struct that
// spec points to, masked where secret. It is safe to print or log.
func Effective(spec any) []Setting {
	var out []Setting
	walk(reflect.ValueOf(spec).Elem(), func(f reflect.StructField, v reflect.Value) {
		out = append(out, Setting{Name: f.Tag.Get("envconfig"), Value: fmt.Sprint(v.Interface())})
	})
	return out
}
