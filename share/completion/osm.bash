# Bash completion for the osm programs (osm-cartridge, osm-plan,
# osm-revise, osm-run, osm-status, osm-submit, osm-task, osm-validate).
#
# Options, the options that take an argument, verbs and formats are read
# from the program's own --help each time, so that they follow the
# program.  Order ids, task ids, workgroups and cartridge names come from
# the order store through the programs themselves (osm-status, osm-task,
# osm-cartridge), from the store named by -d/--db on the command line,
# else $OSM_DB, else ./osm.db; a store that cannot be read gives none.
#
# `make install` puts this file in bash-completion's completions
# directory under each program's name; or source it from ~/.bashrc.

# _osm_run NAME ARG...: run osm program NAME, from the directory of the
# program being completed when it was typed with one (bin/osm-run)
_osm_run() {
    local name=$1
    shift
    if [[ $_osm_cmd == */* ]]; then
        name=${_osm_cmd%/*}/$name
    fi
    "$name" "$@" </dev/null 2>/dev/null
}

# _osm_help PROG: PROG's --help
_osm_help() {
    _osm_run "$1" --help
}

# _osm_options PROG: every option PROG's --help names, one a line
_osm_options() {
    _osm_help "$1" | grep -oE -- '(^|[[ ,])-(-[a-z][a-z-]*|[a-zA-Z])' |
        sed 's/^[[ ,]*//' | sort -u
}

# _osm_argopts PROG: the options of PROG that take an argument: an option
# in --help followed by a name in capitals (DB, FILE|-, NAME[@VERSION]) or
# by choices (json|table), with its short form when both are given
# ("-c, --cartridge C").
_osm_argopts() {
    _osm_help "$1" | awk '
        {
            n = 0
            for (i = 1; i <= NF; i++) {
                t = $i
                sub(/^\[/, "", t)
                if (t ~ /^(-[a-zA-Z]|--[a-z][a-z-]*),?$/) {
                    if (t ~ /,$/) { sub(/,$/, "", t); pend[++n] = t; continue }
                    pend[++n] = t
                    a = $(i + 1)
                    if (a ~ /^[A-Z]/ || a ~ /^[a-z]+(\|[a-z-]+)+\]*$/)
                        for (k = 1; k <= n; k++) print pend[k]
                }
                n = 0
            }
        }' | sort -u
}

# _osm_choices PROG OPTION: the values --help lists for OPTION (json|table)
_osm_choices() {
    _osm_help "$1" | grep -oE -- "$2 [a-z]+(\\|[a-z-]+)+" | head -n 1 |
        sed 's/^[^ ]* //' | tr '|' '\n'
}

# _osm_verbs PROG [VERB]: PROG's verbs, or VERB's own (osm-task order
# suspend|resume), from the lines of --help before "options:" that begin
# with two spaces and a word.
_osm_verbs() {
    _osm_help "$1" | awk -v verb="${2-}" '
        /^options:/ { exit }
        /^  [a-z]/ {
            s = $0
            sub(/   +.*/, "", s)        # the description after the syntax
            split(s, w, " ")
            if (verb == "") {
                n = split(w[1], v, "|")
                for (i = 1; i <= n; i++) print v[i]
                while (match(s, /, [a-z]+ /)) {   # "..., abort --reason"
                    print substr(s, RSTART + 2, RLENGTH - 3)
                    s = substr(s, RSTART + RLENGTH)
                }
            } else if (w[1] == verb && w[2] ~ /^[a-z]+(\|[a-z]+)*$/) {
                n = split(w[2], v, "|")
                for (i = 1; i <= n; i++) print v[i]
            }
        }' | sort -u
}

# The store the command line names (-d DB, --db DB, --db=DB), as options
# to pass on, in the array _osm_db.
_osm_find_db() {
    local i
    _osm_db=()
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case ${COMP_WORDS[i]} in
        -d | --db)
            if [[ ${COMP_WORDS[i + 1]} == = ]]; then
                _osm_db=(--db "${COMP_WORDS[i + 2]}")
            else
                _osm_db=(--db "${COMP_WORDS[i + 1]}")
            fi
            ;;
        esac
    done
}

# Ids from the store: orders (all, or open ones), open manual and fallout
# tasks, workgroups, deployed cartridges (NAME and NAME@VERSION).
_osm_orders() {
    _osm_run osm-status "${_osm_db[@]}" "${1:---all}" |
        sed -n 's/^{[^{}]*"id":\([0-9][0-9]*\).*/\1/p'
}
_osm_tasks() {
    _osm_run osm-task "${_osm_db[@]}" list |
        sed -n 's/^{[^{}]*"id":\([0-9][0-9]*\).*/\1/p'
}
_osm_workgroups() {
    { _osm_run osm-task "${_osm_db[@]}" workgroup list; _osm_run osm-task "${_osm_db[@]}" list; } |
        sed -n 's/^{.*"workgroup":"\([^"]*\)".*/\1/p' | sort -u
}
_osm_cartridges() {
    _osm_run osm-cartridge "${_osm_db[@]}" list |
        sed -n 's/^{[^{}]*"name":"\([^"]*\)","version":"\([^"]*\)".*/\1 \1@\2/p' | tr ' ' '\n' | sort -u
}

# _osm_add WORDS...: offer the words that begin with the current word
_osm_add() {
    local w
    while IFS= read -r w; do
        [[ -n $w ]] && COMPREPLY+=("$w")
    done < <(compgen -W "$*" -- "$cur")
}

# _osm_files [-d]: offer files (or, with -d, directories)
_osm_files() {
    local w
    while IFS= read -r w; do
        COMPREPLY+=("$w")
    done < <(compgen "${1:--f}" -- "$cur")
    compopt -o filenames 2>/dev/null || true
}

# The argument of option OPT of PROG.
_osm_complete_arg() {
    local prog=$1 opt=$2 long
    long=$opt
    if [[ $opt != --* ]]; then
        long=$(_osm_help "$prog" | grep -oE -- "$opt, --[a-z][a-z-]*" | head -n 1 | sed 's/.*, //')
    fi
    case $long in
    --db | --output | --data) _osm_files ;;
    --output-dir) _osm_files -d ;;
    --cartridge) _osm_add "$(_osm_cartridges)"; _osm_files ;;
    --order) _osm_add "$(_osm_orders)" ;;
    --workgroup) _osm_add "$(_osm_workgroups)" ;;
    --to) _osm_add "$(compgen -u)" ;;
    --state)
        if [[ $prog == osm-task ]]; then
            _osm_add pending ready running waiting claimed completed failed skipped cancelled undoing undone
        else
            _osm_add open not_started in_progress suspended amending cancelling cancelled \
                completed failed waiting_for_revision aborted
        fi
        ;;
    *) _osm_add "$(_osm_choices "$prog" "$long")" ;;
    esac
}

# _osm: the completion function of every osm program
_osm() {
    local cur prev prog=${COMP_WORDS[0]##*/} i w verb='' sub='' nargs=0 argopts
    _osm_cmd=${COMP_WORDS[0]}
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    COMPREPLY=()
    _osm_find_db
    argopts=" $(_osm_argopts "$prog" | tr '\n' ' ') "

    # --opt=value: the value of --opt
    if [[ $cur == = && $prev == --* ]]; then
        cur=
        _osm_complete_arg "$prog" "$prev"
        return 0
    fi
    if [[ $prev == = && ${COMP_WORDS[COMP_CWORD - 2]} == --* ]]; then
        _osm_complete_arg "$prog" "${COMP_WORDS[COMP_CWORD - 2]}"
        return 0
    fi
    if [[ $argopts == *" $prev "* ]]; then
        _osm_complete_arg "$prog" "$prev"
        return 0
    fi
    if [[ $cur == -* ]]; then
        _osm_add "$(_osm_options "$prog")"
        return 0
    fi

    # the words before this one that are not options or their arguments:
    # the verb, its own verb, and how many arguments come before
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
        =) ((i++)); continue ;;
        -*) [[ $argopts == *" $w "* ]] && ((i++)); continue ;;
        esac
        if [[ -z $verb ]]; then
            verb=$w
        elif [[ -z $sub && ($verb == order || $verb == workgroup) ]]; then
            sub=$w
        else
            ((nargs++))
        fi
    done

    case $prog in
    osm-cartridge)
        if [[ -z $verb ]]; then
            _osm_add "$(_osm_verbs "$prog")"
            return 0
        fi
        case $verb in
        init) ((nargs == 1)) && _osm_files -d ;;
        check | pack | deploy | test) _osm_files ;;
        import) ((nargs == 0)) && _osm_files ;;
        show | undeploy | export | default) _osm_add "$(_osm_cartridges)" ;;
        esac
        ;;
    osm-task)
        if [[ -z $verb ]]; then
            _osm_add "$(_osm_verbs "$prog")"
            return 0
        fi
        case $verb in
        order | workgroup)
            if [[ -z $sub ]]; then
                _osm_add "$(_osm_verbs "$prog" "$verb")"
            elif [[ $verb == order ]]; then
                _osm_add "$(_osm_orders --state=open)"
            elif [[ $sub != list && $nargs -gt 0 ]]; then
                _osm_add "$(compgen -u)"
            else
                _osm_add "$(_osm_workgroups)"
            fi
            ;;
        suspend | resume | resolve | abort) _osm_add "$(_osm_orders --state=open)" ;;
        respond) _osm_files ;;
        list) ;;
        *) _osm_add "$(_osm_tasks)" ;;
        esac
        ;;
    osm-submit | osm-validate)
        _osm_files
        ;;
    osm-revise)
        # BASE_ID FILE, or --cancel ID...
        if [[ " ${COMP_WORDS[*]} " == *" --cancel "* ]]; then
            _osm_add "$(_osm_orders --state=open)"
        elif [[ -z $verb ]]; then
            _osm_add "$(_osm_orders --state=open)"
        else
            _osm_files
        fi
        ;;
    osm-run)
        _osm_add "$(_osm_orders --state=open)"
        ;;
    *)
        _osm_add "$(_osm_orders)"
        ;;
    esac
    return 0
}

complete -F _osm osm-cartridge osm-plan osm-revise osm-run osm-status osm-submit osm-task osm-validate
