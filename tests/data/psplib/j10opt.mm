==================================================================
Authors's Name		:A. Sprecher / A. Drexl
Authors's Email		:Drexl@bwl.uni-kiel.de
Instance Set		:J10
Type			:MM
Date			    : 2/15/96
=======================================================================
Research Report: Solving Multi-Mode Resource-Constrained Project
		 Scheduling Problems by a Simple, General and Powerful
		 Sequencing Algorithm. Part I: Theory and Part II
		 Computation.
		 Research Reports 385 and 386, Institut fuer Betriebs-
		 wirtschaftslehre, Christian-Albrechts-Univeritaet zu
		 Kiel.
=======================================================================
Computer	 : IBM compatible Personal Computer
Processor	 : 80486 dx
Clockpulse	 : 66 MHz
Operating System : OS/2
Memory Code	 : 100 KB
Memory Data	 :   8 MB
Language	 : GNU C
Average CPU-Time : 0.14 sec.
=======================================================================
   Paramter Instance  Makespan	CPU-Time[sec.]
-----------------------------------------------------------------------
      10,      1,	   17,	   0.04
      11,      4,	   23,	   0.04
      20,      1,	   12,	   0.00
      30,      1,	   16,	   0.09
      64,      1,	   16,	   0.03
