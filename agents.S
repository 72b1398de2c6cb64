/* agents.S - the agent executable, embedded into remowt for --local. */
	.section .rodata
	.balign 16
	.globl remowt_agent_start
	.globl remowt_agent_end
remowt_agent_start:
	.incbin "build/agent"
remowt_agent_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
