# DebuginfoFlags.cmake: reading flags out of DEBUGINFO_FLAGS, shared by
# Debuginfo.cmake (configure time) and Upload.cmake (build time, cmake -P), so
# that the address configure refuses and the store the stamps follow are
# always the same values.

# _debuginfo_flag_values(OUT FLAGS NAME): the values of --NAME in the list
# FLAGS, in order, in both forms the CLI takes: --NAME=VALUE, or --NAME and
# VALUE as two elements. A value is never read as a flag, as the CLI does. The
# one-dash spelling counts too: the CLI refuses it, and configure must still
# refuse a secret written that way.
function(_debuginfo_flag_values out flags name)
  set(values "")
  set(next OFF)
  foreach(f IN LISTS flags)
    if(next)
      list(APPEND values "${f}")
      set(next OFF)
    elseif(f MATCHES "^--?${name}=(.*)$")
      list(APPEND values "${CMAKE_MATCH_1}")
    elseif(f MATCHES "^--?${name}$")
      set(next ON)
    endif()
  endforeach()
  set(${out} "${values}" PARENT_SCOPE)
endfunction()
